'use strict';
// Workflows for the operations tests (backup/restore, doctor, alerts).
const { proxyActivities, sleep, condition, defineSignal, setHandler, ApplicationFailure } = require('@temporalio/workflow');

const { opsStep } = proxyActivities({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 1, maximumInterval: '1s' },
});

// A durable timer, then an activity: open at a snapshot, it must finish on the restored server.
exports.opsTimerWorkflow = async function opsTimerWorkflow(id, sleepMs) {
  await sleep(sleepMs);
  return await opsStep(id);
};

// Finishes at once (gives doctor a "usual duration" for its type).
exports.opsQuickWorkflow = async function opsQuickWorkflow() {
  return 'quick';
};

// Runs until signalled.
const release = defineSignal('release');
exports.opsWaitWorkflow = async function opsWaitWorkflow() {
  let released = false;
  setHandler(release, () => {
    released = true;
  });
  await condition(() => released);
  return 'released';
};

// Succeeds or fails as told (alerting).
exports.opsOutcomeWorkflow = async function opsOutcomeWorkflow(fail) {
  if (fail) throw ApplicationFailure.create({ message: 'told to fail', nonRetryable: true });
  return 'ok';
};
