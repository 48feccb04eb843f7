'use strict';
// Workflows for tests/crash/chaos.test.js (and scripts/chaos.sh): a mixed workload of timers,
// activities with retries and heartbeats, a child, continue-as-new, signals and updates.
const {
  proxyActivities,
  sleep,
  defineSignal,
  defineUpdate,
  setHandler,
  condition,
  continueAsNew,
  executeChild,
  allHandlersFinished,
} = require('@temporalio/workflow');

const { flaky } = proxyActivities({
  startToCloseTimeout: '3s',
  heartbeatTimeout: '2s',
  retry: { initialInterval: '100ms', backoffCoefficient: 1, maximumInterval: '500ms' },
});

const item = defineSignal('item');
const finish = defineSignal('finish');
const record = defineUpdate('record');

// Run 0: a timer, an activity (fails its first attempt, heartbeats on the next), a child, then
// continue-as-new carrying the state. Run 1: a timer, then waits for `finish` (which may have
// arrived in run 0) and returns the state. Signals (`item`, a sequence number) and updates (`record`) are collected in every run.
exports.chaosWorkflow = async function chaosWorkflow(id, carried) {
  const state = carried ?? { run: 0, signals: [], updates: [], timers: 0, activities: [], child: null, done: false };
  setHandler(item, (seq) => {
    state.signals.push(seq);
  });
  setHandler(finish, () => {
    state.done = true;
  });
  setHandler(record, (value) => {
    state.updates.push(value);
    return `recorded:${value}`;
  });
  await sleep(state.run === 0 ? 300 : 200);
  state.timers += 1;
  if (state.run === 0) {
    state.activities.push(await flaky(id));
    state.child = await executeChild(chaosChild, { workflowId: `${id}-child`, args: [id] });
    await condition(allHandlersFinished);
    state.run = 1;
    return continueAsNew(id, state);
  }
  await condition(() => state.done && allHandlersFinished());
  return state;
};

async function chaosChild(id) {
  await sleep(150);
  return `child:${id}`;
}
exports.chaosChild = chaosChild;

// What the chaos schedule starts once per action.
exports.chaosTick = async function chaosTick() {
  return 'tick';
};
