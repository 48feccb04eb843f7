'use strict';
// Workflow for tests/crash/crash.test.js: a timer, then two sequential activities.
const { proxyActivities, sleep } = require('@temporalio/workflow');

const { crashA, crashB } = proxyActivities({
  // Short startToClose so an attempt lost in a crash is retried quickly.
  startToCloseTimeout: '5s',
  retry: { initialInterval: '200ms', backoffCoefficient: 1, maximumInterval: '1s' },
});

exports.crashWorkflow = async function crashWorkflow(id, sleepMs) {
  await sleep(sleepMs);
  const a = await crashA(id);
  const b = await crashB(id);
  return `${a}|${b}`;
};
