'use strict';
// Workflows of the Temporal-compatibility-gap tests (gaps.test.js).
const { upsertMemo, workflowInfo, condition, setHandler, defineSignal } = require('@temporalio/workflow');

const goSignal = defineSignal('go');

/** Upserts each memo of `upserts` in turn (one workflow task each), then returns workflowInfo().memo. */
exports.memoUpsertWorkflow = async function memoUpsertWorkflow(upserts) {
  let released = 0;
  setHandler(goSignal, () => {
    released += 1;
  });
  for (let i = 0; i < upserts.length; i++) {
    upsertMemo(upserts[i]);
    await condition(() => released > i);
  }
  return workflowInfo().memo ?? null;
};

/** Returns the timeouts and priority of workflowInfo(); an absent value is reported as 'absent'. */
exports.infoWorkflow = async function infoWorkflow(waitForGo) {
  let go = false;
  setHandler(goSignal, () => {
    go = true;
  });
  if (waitForGo) await condition(() => go);
  const info = workflowInfo();
  const orAbsent = (v) => (v === undefined || v === null ? 'absent' : v);
  return {
    executionTimeoutMs: orAbsent(info.executionTimeoutMs),
    runTimeoutMs: orAbsent(info.runTimeoutMs),
    taskTimeoutMs: orAbsent(info.taskTimeoutMs),
    priorityKey: orAbsent(info.priority && info.priority.priorityKey),
  };
};

/** Runs infoWorkflow as a child with no timeouts given and returns its result. */
exports.gapsParentWorkflow = async function gapsParentWorkflow(childId) {
  const { executeChild } = require('@temporalio/workflow');
  return executeChild('infoWorkflow', { workflowId: childId, args: [false] });
};

/**
 * Reads workflowInfo().typedSearchAttributes for `names` (as the worker decoded them from the
 * started event; Dates as ISO strings), upserts `attrs` in the legacy untyped form (name -> array of
 * values), then returns what it read once `go` arrives.
 */
exports.typedAttributesWorkflow = async function typedAttributesWorkflow(attrs, names) {
  const { upsertSearchAttributes } = require('@temporalio/workflow');
  let go = false;
  setHandler(goSignal, () => {
    go = true;
  });
  const out = {};
  for (const pair of workflowInfo().typedSearchAttributes.getAll()) {
    if (!names.includes(pair.key.name)) continue;
    const v = pair.value;
    out[pair.key.name] = { type: pair.key.type, value: v instanceof Date ? `date:${v.toISOString()}` : v };
  }
  upsertSearchAttributes(attrs);
  await condition(() => go);
  return out;
};

/** workflowInfo().priority of this run (the fields the server sent), or null. */
exports.priorityInfoWorkflow = async function priorityInfoWorkflow() {
  const p = workflowInfo().priority;
  return p ? { priorityKey: p.priorityKey ?? null, fairnessKey: p.fairnessKey ?? null } : null;
};

/**
 * Records user metadata on each kind of command (an activity's summary, a timer's summary, a
 * child's static summary and details) and reports the priorities its activities and child ran
 * with: one activity and the child leave priority unset (they inherit the workflow's), one
 * activity sets its own priority key (the workflow's fairness key fills the rest).
 */
exports.metadataWorkflow = async function metadataWorkflow(childId) {
  const { proxyActivities, sleep, executeChild } = require('@temporalio/workflow');
  const plain = proxyActivities({ startToCloseTimeout: '10s', summary: 'activity summary' });
  const own = proxyActivities({ startToCloseTimeout: '10s', priority: { priorityKey: 5 } });
  const inherited = await plain.activityPriority();
  const overridden = await own.activityPriority();
  await sleep(1, { summary: 'timer summary' });
  const child = await executeChild('priorityInfoWorkflow', {
    workflowId: childId,
    staticSummary: 'child summary',
    staticDetails: 'child details',
  });
  return { inherited, overridden, child };
};

/**
 * Runs activities echoing `payloadSize` bytes until workflowInfo() says continue-as-new is
 * suggested (or `maxIterations`); returns what workflowInfo() said before each activity.
 */
exports.continueAsNewSuggestionWorkflow = async function continueAsNewSuggestionWorkflow(payloadSize, maxIterations) {
  const { proxyActivities } = require('@temporalio/workflow');
  const { echo } = proxyActivities({ startToCloseTimeout: '10s' });
  const seen = [];
  for (let i = 0; i < maxIterations; i++) {
    const info = workflowInfo();
    seen.push({ length: info.historyLength, size: info.historySize, suggested: info.continueAsNewSuggested });
    if (info.continueAsNewSuggested) break;
    await echo('x'.repeat(payloadSize));
  }
  return seen;
};

/**
 * Update handlers for the update-limit tests: `block` stays in flight until `release`, `quick`
 * answers at once; the workflow ends on `done`.
 */
exports.updateLimitWorkflow = async function updateLimitWorkflow() {
  const { defineUpdate } = require('@temporalio/workflow');
  let released = false;
  let done = false;
  setHandler(defineSignal('release'), () => {
    released = true;
  });
  setHandler(defineSignal('done'), () => {
    done = true;
  });
  setHandler(defineUpdate('block'), async (n) => {
    await condition(() => released);
    return n;
  });
  setHandler(defineUpdate('quick'), (n) => n * 2);
  await condition(() => done);
  return 'done';
};

/**
 * The `info` update answers workflowInfo().continueAsNewSuggested as the workflow sees it while
 * handling that update; the workflow ends on `done`, returning the same flag.
 */
exports.updateSuggestionWorkflow = async function updateSuggestionWorkflow() {
  const { defineUpdate } = require('@temporalio/workflow');
  let done = false;
  setHandler(defineSignal('done'), () => {
    done = true;
  });
  setHandler(defineUpdate('info'), () => workflowInfo().continueAsNewSuggested);
  await condition(() => done);
  return workflowInfo().continueAsNewSuggested;
};

/** Runs `asyncToken` (completed from outside with its task token) and returns its result. */
exports.asyncActivityWorkflow = async function asyncActivityWorkflow() {
  const { proxyActivities } = require('@temporalio/workflow');
  const { asyncToken } = proxyActivities({ startToCloseTimeout: '30s', activityId: 'async-1' });
  return asyncToken();
};

/** Sets GapsInt, removes it after `go`, then waits for two more `go` signals (one task each). */
exports.saRemoveWorkflow = async function saRemoveWorkflow() {
  const { upsertSearchAttributes } = require('@temporalio/workflow');
  let go = 0;
  setHandler(goSignal, () => {
    go += 1;
  });
  upsertSearchAttributes({ GapsInt: [5] });
  await condition(() => go >= 1);
  upsertSearchAttributes({ GapsInt: [] });
  await condition(() => go >= 2);
  await condition(() => go >= 3);
  return 'done';
};
