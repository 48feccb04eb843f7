'use strict';
// TypeScript-SDK workflows whose histories tests/sdk/ts-la/record.js records into
// tests/sdk/testdata/ (replayed by the C++ twins in tests/sdk/local_activity_compat_test.cc).
const { proxyActivities, proxyLocalActivities, sleep } = require('@temporalio/workflow');

const acts = proxyActivities({ startToCloseTimeout: '10s' });
const las = proxyLocalActivities({ startToCloseTimeout: '10s' });

// Activities and local activities share one seq counter (timers have their own): activity 1,
// local activity 2, timer 1, then local activity 3 and activity 4 started together.
exports.tsMixedActivities = async function tsMixedActivities(n) {
  const a = await acts.addOne(n);
  const b = await las.addOne(a);
  await sleep(10);
  const [c, d] = await Promise.all([las.addOne(b), acts.addOne(b)]);
  return `${a} ${b} ${c} ${d}`;
};

// A local activity whose retry backoff (300 ms) is longer than its local retry threshold
// (100 ms): sdk-core schedules a timer, then a new local activity (next seq) with attempt 2.
exports.tsLocalBackoff = async function tsLocalBackoff(key) {
  const { failOnce } = proxyLocalActivities({
    startToCloseTimeout: '10s',
    localRetryThreshold: '100ms',
    retry: { initialInterval: '300ms', backoffCoefficient: 1, maximumAttempts: 3 },
  });
  return await failOnce(key);
};
