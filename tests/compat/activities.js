'use strict';
// Activities for tests/compat/core.test.js. They run in the test process itself (the SDK
// worker executes activities on the main Node thread), so `state` is shared with the tests:
// every activity takes a `key` (unique per test) and records what happened under it.

const { Context, ApplicationFailure, CancelledFailure } = require('@temporalio/activity');

const state = {
  /** key -> number of executions (attempts) */
  calls: new Map(),
  /** key -> array of attempt numbers as seen in Context.info.attempt */
  attempts: new Map(),
  /** key -> Date.now() when the first attempt started running on the worker */
  startedAt: new Map(),
  /** key -> message of the CancelledFailure the activity observed */
  cancelled: new Map(),
  /** key -> list of step names completed by `step` */
  steps: new Map(),
  /** key -> array of listeners called when `step` completes: (stepName) => void */
  stepListeners: new Map(),
};

function record(key) {
  const n = (state.calls.get(key) ?? 0) + 1;
  state.calls.set(key, n);
  if (!state.startedAt.has(key)) state.startedAt.set(key, Date.now());
  const attempt = Context.current().info.attempt;
  if (!state.attempts.has(key)) state.attempts.set(key, []);
  state.attempts.get(key).push(attempt);
  return n;
}

/** Resolves the next time `step` completes `stepName` for `key`. */
function onStep(key, stepName) {
  return new Promise((resolve) => {
    if (!state.stepListeners.has(key)) state.stepListeners.set(key, []);
    state.stepListeners.get(key).push((name) => {
      if (name === stepName) resolve();
    });
  });
}

const activities = {
  async greet(name) {
    return `Hello, ${name}!`;
  },

  /** Fails `failTimes` times with a retryable error, then succeeds. */
  async flaky(key, failTimes) {
    const n = record(key);
    if (n <= failTimes) {
      throw new Error(`flaky failure #${n}`);
    }
    return `ok after ${n} attempts`;
  },

  /** Always fails with a non-retryable ApplicationFailure. */
  async fatal(key) {
    record(key);
    throw ApplicationFailure.nonRetryable('fatal activity error', 'FatalError');
  },

  /** Fails with a plain (retryable by itself) error whose type the workflow lists as non-retryable. */
  async fatalByType(key) {
    record(key);
    throw ApplicationFailure.create({ message: 'typed fatal activity error', type: 'MyNonRetryableType' });
  },

  /** Never heartbeats; sleeps `ms` (cancellable so worker shutdown is quick). */
  async silentSleeper(key, ms) {
    record(key);
    // Context.sleep rejects with CancelledFailure if the worker cancels the activity
    // (e.g. on shutdown), so a test never waits the full `ms` for it.
    await Context.current().sleep(ms);
    return 'slept';
  },

  /** Heartbeats every 200 ms for up to `maxMs`; records the cancellation it observes. */
  async heartbeater(key, maxMs) {
    record(key);
    const ctx = Context.current();
    const deadline = Date.now() + maxMs;
    try {
      while (Date.now() < deadline) {
        ctx.heartbeat({ at: Date.now() });
        await ctx.sleep(200); // rejects with CancelledFailure once cancellation is delivered
      }
    } catch (e) {
      if (e instanceof CancelledFailure) {
        state.cancelled.set(key, e.message);
      }
      throw e;
    }
    return 'finished without cancellation';
  },

  /** Always fails with a retryable error that mentions the attempt. */
  async alwaysFails(key) {
    const n = record(key);
    throw new Error(`always fails (call ${n})`);
  },

  /** A step of a multi-step workflow. */
  async step(key, stepName) {
    record(key);
    if (!state.steps.has(key)) state.steps.set(key, []);
    state.steps.get(key).push(stepName);
    for (const l of state.stepListeners.get(key) ?? []) l(stepName);
    return `${stepName}-done`;
  },

  /** Echo the argument back (used for the large payload round trip through an activity). */
  async echo(x) {
    return x;
  },
};

module.exports = { state, activities, onStep };
