'use strict';
// Workflows for tests/crash/external-crash.test.js.
const { condition, defineSignal, getExternalWorkflowHandle, setHandler, sleep } = require('@temporalio/workflow');

const extSignal = defineSignal('ext');

/** Collects `expected` 'ext' signals; returns them in arrival order. */
exports.extCrashTarget = async function extCrashTarget(expected) {
  const got = [];
  setHandler(extSignal, (v) => {
    got.push(v);
  });
  await condition(() => got.length >= expected);
  return got;
};

/** Signals `targetId` with 0..n-1, one at a time, with a short timer between sends. */
exports.extCrashSender = async function extCrashSender(targetId, n) {
  const h = getExternalWorkflowHandle(targetId);
  for (let i = 0; i < n; i++) {
    await h.signal(extSignal, i);
    await sleep(100);
  }
  return 'sent';
};
