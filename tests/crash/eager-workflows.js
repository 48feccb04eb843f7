'use strict';
// Workflow for tests/crash/eager-crash.test.js: one activity on the workflow's own task queue, so
// the SDK worker asks for eager execution. `startToClose`: long when the test completes the
// attempt after a restart, short when it lets the attempt be lost (it retries quickly).
const { proxyActivities } = require('@temporalio/workflow');

exports.eagerCrashWorkflow = async function eagerCrashWorkflow(key, startToClose) {
  const { eagerStep } = proxyActivities({
    startToCloseTimeout: startToClose,
    retry: { initialInterval: '200ms', backoffCoefficient: 1 },
  });
  return await eagerStep(key);
};
