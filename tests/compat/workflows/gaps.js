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
