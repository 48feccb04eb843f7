'use strict';
// Workflows for tests/compat/external.test.js (prefix ext) and tests/compat/reset.test.js
// (prefix reset). Activities referenced here (resetGateActivity) are defined in reset.test.js.
const {
  condition,
  continueAsNew,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} = require('@temporalio/workflow');

// ---- external signals and cancels ------------------------------------------------------------

const extSignal = defineSignal('ext');

/** Collects `expected` 'ext' signals and returns them in arrival order. */
exports.extCollectorWorkflow = async function extCollectorWorkflow(expected) {
  const got = [];
  setHandler(extSignal, (v) => {
    got.push(v);
  });
  await condition(() => got.length >= expected);
  return got;
};

/** Signals `targetId` with 'ext'(value) `times` times, sequentially, and returns 'sent'. */
exports.extSenderWorkflow = async function extSenderWorkflow(targetId, value, times = 1) {
  const h = getExternalWorkflowHandle(targetId);
  for (let i = 0; i < times; i++) await h.signal(extSignal, times === 1 ? value : `${value}-${i}`);
  return 'sent';
};

/** Signals a workflow that does not exist; returns what the SDK raised. */
exports.extSignalMissingWorkflow = async function extSignalMissingWorkflow(targetId) {
  try {
    await getExternalWorkflowHandle(targetId).signal(extSignal, 'nobody');
    return { raised: false };
  } catch (err) {
    return { raised: true, name: err.name, type: err.type, message: err.message };
  }
};

/** Sends a signal without awaiting it and completes in the same workflow task. */
exports.extFireAndCompleteWorkflow = async function extFireAndCompleteWorkflow(targetId) {
  getExternalWorkflowHandle(targetId).signal(extSignal, 'lost').catch(() => {});
  return 'done';
};

/** Waits forever; a cancel request ends it as CANCELED. */
exports.extCancellableWorkflow = async function extCancellableWorkflow() {
  await condition(() => false);
};

/** Asks `targetId` to cancel; returns what happened (cancel of a missing run raises). */
exports.extCancelSenderWorkflow = async function extCancelSenderWorkflow(targetId) {
  try {
    await getExternalWorkflowHandle(targetId).cancel();
    return { raised: false };
  } catch (err) {
    return { raised: true, name: err.name, type: err.type, message: err.message };
  }
};

/** Starts a child collector and signals it (a child handle's signal is child_workflow_only). */
exports.extParentSignalsChildWorkflow = async function extParentSignalsChildWorkflow(childId) {
  const child = await startChild(exports.extCollectorWorkflow, { workflowId: childId, args: [1] });
  await child.signal(extSignal, 'from-parent');
  return await child.result();
};

// ---- reset -----------------------------------------------------------------------------------

const addSignal = defineSignal('add');
const finishSignal = defineSignal('finish');

/** Returns its own run id (so a reset run returns a new result). */
exports.resetRunIdWorkflow = async function resetRunIdWorkflow() {
  return workflowInfo().runId;
};

/** Collects 'add' signals until 'finish'; returns the values and the run id. */
exports.resetSignalsWorkflow = async function resetSignalsWorkflow() {
  const got = [];
  let finished = false;
  setHandler(addSignal, (v) => {
    got.push(v);
  });
  setHandler(finishSignal, () => {
    finished = true;
  });
  await condition(() => finished);
  return { got, runId: workflowInfo().runId };
};

/**
 * Schedules resetGateActivity, then waits for an 'add' signal (a second workflow task while the
 * activity is pending), then returns the activity's result, the signals and the run id.
 */
exports.resetActivityWorkflow = async function resetActivityWorkflow(key) {
  const { resetGateActivity } = proxyActivities({ startToCloseTimeout: '30s', retry: { maximumAttempts: 1 } });
  const got = [];
  setHandler(addSignal, (v) => {
    got.push(v);
  });
  const p = resetGateActivity(key);
  await condition(() => got.length > 0);
  const r = await p;
  return { activity: r, got, runId: workflowInfo().runId };
};


const addUpdate = defineUpdate('addUpdate');

/** Collects 'addUpdate' updates (each returns how many it has seen) until 'finish'. */
exports.resetUpdatesWorkflow = async function resetUpdatesWorkflow() {
  const got = [];
  let finished = false;
  setHandler(addUpdate, (v) => {
    got.push(v);
    return got.length;
  });
  setHandler(finishSignal, () => {
    finished = true;
  });
  await condition(() => finished);
  return { got, runId: workflowInfo().runId };
};

/**
 * Starts an extCollectorWorkflow child (1 signal), waits for an 'add' signal (a second workflow
 * task while the child runs), signals the child 'from-parent' if asked, then returns the child's
 * result.
 */
exports.resetParentWorkflow = async function resetParentWorkflow(childId, signalChild) {
  const child = await startChild(exports.extCollectorWorkflow, { workflowId: childId, args: [1] });
  let added = false;
  setHandler(addSignal, () => {
    added = true;
  });
  await condition(() => added);
  if (signalChild) await child.signal(extSignal, 'from-parent');
  return { child: await child.result(), runId: workflowInfo().runId };
};

/** Run 0 continues as new after one 'add'; the next run returns everything once 'finish' comes. */
exports.resetChainWorkflow = async function resetChainWorkflow(iteration, carried) {
  const got = [...carried];
  let finished = false;
  setHandler(addSignal, (v) => {
    got.push(v);
  });
  setHandler(finishSignal, () => {
    finished = true;
  });
  if (iteration === 0) {
    await condition(() => got.length >= 1);
    await continueAsNew(1, got);
  }
  await condition(() => finished);
  return { got, iteration, runId: workflowInfo().runId };
};
