'use strict';
// Workflows of the visibility tests: search attribute and memo upserts.
const { upsertSearchAttributes, upsertMemo, condition, setHandler, defineSignal } = require('@temporalio/workflow');

const finishSignal = defineSignal('finish');

/** Upserts `attrs` (legacy untyped form: name -> array of values) and `memo`, then waits for `finish` if asked. */
exports.upsertAttributesWorkflow = async function upsertAttributesWorkflow(attrs, memo, waitForFinish) {
  let finished = false;
  setHandler(finishSignal, () => {
    finished = true;
  });
  upsertSearchAttributes(attrs);
  if (memo) upsertMemo(memo);
  if (waitForFinish) await condition(() => finished);
  return 'done';
};

/** Completes, or fails with an application error when `fail` is set. */
exports.visibilityOutcomeWorkflow = async function visibilityOutcomeWorkflow(fail) {
  if (fail) {
    const { ApplicationFailure } = require('@temporalio/workflow');
    throw ApplicationFailure.nonRetryable('asked to fail');
  }
  return 'ok';
};
