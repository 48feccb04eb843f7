'use strict';
// Workflows that drive the activities in tests/compat/activities.js.
const {
  proxyActivities,
  sleep,
  CancellationScope,
  isCancellation,
  ActivityCancellationType,
  defineSignal,
  setHandler,
  condition,
} = require('@temporalio/workflow');

/** One activity, result returned. */
exports.greetWorkflow = async function greetWorkflow(name) {
  const { greet } = proxyActivities({ startToCloseTimeout: '10s' });
  return await greet(name);
};

/** Activity that fails `failTimes` times and then succeeds; retried by the server. */
exports.retryWorkflow = async function retryWorkflow(key, failTimes) {
  const { flaky } = proxyActivities({
    startToCloseTimeout: '10s',
    retry: { initialInterval: '100ms', backoffCoefficient: 1, maximumAttempts: 5 },
  });
  return await flaky(key, failTimes);
};

/** Activity failing with ApplicationFailure.nonRetryable: the workflow fails with the ActivityFailure. */
exports.nonRetryableWorkflow = async function nonRetryableWorkflow(key) {
  const { fatal } = proxyActivities({
    startToCloseTimeout: '10s',
    retry: { initialInterval: '100ms', backoffCoefficient: 1, maximumAttempts: 5 },
  });
  return await fatal(key);
};

/** Activity failing with an error type listed in nonRetryableErrorTypes. */
exports.nonRetryableTypeWorkflow = async function nonRetryableTypeWorkflow(key) {
  const { fatalByType } = proxyActivities({
    startToCloseTimeout: '10s',
    retry: {
      initialInterval: '100ms',
      backoffCoefficient: 1,
      maximumAttempts: 5,
      nonRetryableErrorTypes: ['MyNonRetryableType'],
    },
  });
  return await fatalByType(key);
};

/** Activity with a 1 s heartbeat timeout that never heartbeats. */
exports.heartbeatTimeoutWorkflow = async function heartbeatTimeoutWorkflow(key) {
  const { silentSleeper } = proxyActivities({
    startToCloseTimeout: '20s',
    heartbeatTimeout: '1s',
    retry: { maximumAttempts: 1 },
  });
  return await silentSleeper(key, 5000);
};

/**
 * Starts a heartbeating activity in a CancellationScope, cancels the scope after 1 s of workflow
 * sleep. WAIT_CANCELLATION_COMPLETED makes the workflow wait for the activity to acknowledge the
 * cancellation (which it learns from a heartbeat response), so when the workflow returns, the
 * activity has observed it.
 */
exports.cancelActivityWorkflow = async function cancelActivityWorkflow(key) {
  const { heartbeater } = proxyActivities({
    startToCloseTimeout: '60s',
    heartbeatTimeout: '2s',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { maximumAttempts: 1 },
  });
  const scope = new CancellationScope();
  const activityPromise = scope.run(() => heartbeater(key, 30000));
  await sleep('1s');
  scope.cancel();
  try {
    const r = await activityPromise;
    return `not cancelled: ${r}`;
  } catch (err) {
    if (isCancellation(err)) return 'activity cancelled';
    throw err;
  }
};

/** Activity that always fails, retried forever every 500 ms (describe shows it pending). */
exports.pendingActivityWorkflow = async function pendingActivityWorkflow(key) {
  const { alwaysFails } = proxyActivities({
    startToCloseTimeout: '10s',
    retry: { initialInterval: '500ms', backoffCoefficient: 1 },
  });
  return await alwaysFails(key);
};

/** step one -> durable timer of `pauseMs` -> step two. */
exports.twoStepWorkflow = async function twoStepWorkflow(key, pauseMs) {
  const { step } = proxyActivities({ startToCloseTimeout: '10s' });
  const one = await step(key, 'one');
  await sleep(pauseMs);
  const two = await step(key, 'two');
  return [one, two];
};

const continueSignal = defineSignal('continue');

/** Blocks until the `continue` signal arrives, returns its argument. */
exports.waitForSignalWorkflow = async function waitForSignalWorkflow() {
  let value;
  let received = false;
  setHandler(continueSignal, (v) => {
    value = v;
    received = true;
  });
  await condition(() => received);
  return value;
};

/** Large value through an activity and back. */
exports.echoViaActivityWorkflow = async function echoViaActivityWorkflow(value) {
  const { echo } = proxyActivities({ startToCloseTimeout: '10s' });
  return await echo(value);
};
