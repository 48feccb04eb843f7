'use strict';
// Workflows for tests/crash/transient-wft.test.js.
const { workflowInfo } = require('@temporalio/workflow');

// A deployed bug: every workflow task fails (an uncaught TypeError fails the task, not the run)
// until the task's own time (the SDK's Date.now() is the WorkflowTaskStarted time) reaches
// `untilMs`; then the workflow completes. Retries of the failing task are transient.
exports.buggyUntil = async function buggyUntil(untilMs) {
  if (Date.now() < untilMs) {
    throw new TypeError(`deployed bug (task at ${Date.now()}, fixed at ${untilMs})`);
  }
  return `fixed:${workflowInfo().workflowId}`;
};
