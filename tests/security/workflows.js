'use strict';
// The workflow the security tests run through a worker that authenticates with an API key.
exports.greet = async function greet(name) {
  return `hello ${name}`;
};
