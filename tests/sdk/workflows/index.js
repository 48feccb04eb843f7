'use strict';
// TypeScript-SDK workflows of the C++ interop test (bundled by tests/sdk/interop.test.js).
const {
  proxyActivities, executeChild, defineSignal, defineQuery, defineUpdate, setHandler, condition, ApplicationFailure,
} = require('@temporalio/workflow');

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

// Signal, query and update handlers driven by a C++ client and signalled by a C++ workflow.
async function tsMessages() {
  let total = 0;
  let finished = false;
  setHandler(defineSignal('add'), (n) => {
    total += n;
  });
  setHandler(defineSignal('done'), () => {
    finished = true;
  });
  setHandler(defineQuery('total'), () => total);
  setHandler(defineUpdate('double'), () => (total *= 2));
  setHandler(defineUpdate('set'), (v) => (total = v), {
    validator: (v) => {
      if (v < 0) throw ApplicationFailure.create({ message: 'negative value', type: 'ValidationError' });
    },
  });
  await condition(() => finished);
  return total;
}

module.exports = { tsCallsCpp, tsParentOfCpp, tsChild, tsMessages };
