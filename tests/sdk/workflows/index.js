'use strict';
// TypeScript-SDK workflows of the C++ interop test (bundled by tests/sdk/interop.test.js).
const { proxyActivities, executeChild } = require('@temporalio/workflow');

const cpp = proxyActivities({ taskQueue: 'cpp-interop', startToCloseTimeout: '10s' });

// A TS workflow calling a C++ activity.
async function tsCallsCpp(name) {
  return await cpp.cppShout(name);
}

// A TS parent running a C++ child (CppGreet calls a TS activity in turn).
async function tsParentOfCpp(name) {
  const r = await executeChild('CppGreet', { taskQueue: 'cpp-interop', args: [name] });
  return `TS parent got: ${r}`;
}

// The TS child of a C++ parent.
async function tsChild(name) {
  return `ts child of ${name}`;
}

module.exports = { tsCallsCpp, tsParentOfCpp, tsChild };
