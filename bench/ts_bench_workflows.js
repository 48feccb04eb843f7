'use strict';
// The TypeScript side of bench/ts_worker_bench.cjs: one no-op activity per workflow.
const { proxyActivities } = require('@temporalio/workflow');

const { noop } = proxyActivities({ startToCloseTimeout: '10s' });

async function tsBench() {
  await noop();
}

module.exports = { tsBench };
