'use strict';
// Workflows without activities. Plain CommonJS, bundled by the SDK's webpack bundler.
const { sleep, ApplicationFailure, workflowInfo } = require('@temporalio/workflow');

/** Sleeps `duration` (string/ms) with a durable timer and returns how long it slept in workflow time. */
exports.timerWorkflow = async function timerWorkflow(duration) {
  const start = Date.now(); // deterministic workflow time
  await sleep(duration);
  return Date.now() - start;
};

/** Sleeps for an hour: used for terminate, cancel, execution timeout and duplicate-start tests. */
exports.sleepLongWorkflow = async function sleepLongWorkflow() {
  await sleep('1h');
  return 'woke up';
};

/** Returns its input unchanged (large payload round trip). */
exports.echoWorkflow = async function echoWorkflow(value) {
  return value;
};

/** Fails the workflow execution with an ApplicationFailure. */
exports.failingWorkflow = async function failingWorkflow(message) {
  throw ApplicationFailure.create({ message, type: 'WorkflowBoom', nonRetryable: true });
};

/** Returns its own workflow id / run id (used by raw gRPC start tests). */
exports.whoAmIWorkflow = async function whoAmIWorkflow() {
  const info = workflowInfo();
  return { workflowId: info.workflowId, runId: info.runId };
};
