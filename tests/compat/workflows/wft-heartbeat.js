'use strict';
// Workflows of wft-heartbeat.test.js: local activities that outlive the workflow task timeout,
// which the SDK keeps alive with workflow-task heartbeats.
const { proxyLocalActivities, proxyActivities } = require('@temporalio/workflow');

/** One local activity sleeping `ms`, then an ordinary activity (commands after the heartbeats). */
exports.longLocalActivityWorkflow = async function longLocalActivityWorkflow(ms) {
  const { sleepFor } = proxyLocalActivities({ startToCloseTimeout: '60s' });
  const { echo } = proxyActivities({ startToCloseTimeout: '10s' });
  const slept = await sleepFor(ms);
  return `${slept}|${await echo('after')}`;
};

/**
 * A local activity failing its first two attempts (retried by the worker with 1 s backoff, within
 * the task), then sleeping `ms`.
 */
exports.retryingLocalActivityWorkflow = async function retryingLocalActivityWorkflow(key, ms) {
  const { flakySleep } = proxyLocalActivities({
    startToCloseTimeout: '60s',
    retry: { initialInterval: '1s', backoffCoefficient: 1, maximumAttempts: 5 },
  });
  return flakySleep(key, ms);
};
