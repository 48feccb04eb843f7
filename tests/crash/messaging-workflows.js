'use strict';
// Workflows for tests/crash/messaging-crash.test.js (signals, updates, a child and one
// continue-as-new, with the server SIGKILLed in between). Activities (msgCrash*) are defined in the
// test file and run in the test process.
const {
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  makeContinueAsNewFunc,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} = require('@temporalio/workflow');

// Short timeouts so work lost in a crash (an activity attempt, a workflow task) is retried quickly.
const WORKFLOW_TASK_TIMEOUT = '3s';
const { msgCrashEcho, msgCrashChildWork, msgCrashFinalize } = proxyActivities({
  startToCloseTimeout: '4s',
  retry: { initialInterval: '200ms', backoffCoefficient: 1, maximumInterval: '1s' },
});

const itemSignal = defineSignal('item');
const recordUpdate = defineUpdate('record');
const stateQuery = defineQuery('state');

const continueAsNew = makeContinueAsNewFunc({ workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT });

/**
 * Run 1 (carried undefined): collects `item` signals ({seq, attempt} payloads, in delivery order)
 * until `expectedSignals` distinct seqs arrived and `expectedUpdates` distinct `record` updates
 * completed (each update runs an activity, then records its value); then executes a child, then
 * continues as new once carrying everything collected.
 * Run 2 (carried set): runs one activity and returns the carried state plus its own run info.
 * Query `state` works in both runs.
 */
exports.msgCrashWorkflow = async function msgCrashWorkflow(id, expectedSignals, expectedUpdates, carried) {
  const info = workflowInfo();
  if (carried) {
    let phase = 'second-run';
    setHandler(stateQuery, () => ({ runId: info.runId, phase, ...carried }));
    const finalized = await msgCrashFinalize(id);
    phase = 'done';
    return {
      ...carried,
      finalized,
      secondRunId: info.runId,
      continuedFromExecutionRunId: info.continuedFromExecutionRunId ?? null,
      firstExecutionRunId: info.firstExecutionRunId,
    };
  }

  const signals = [];
  const seqs = new Set();
  const updates = []; // values recorded by the update handler, in completion order
  let phase = 'collecting';
  let child = null;
  setHandler(itemSignal, (item) => {
    signals.push(item);
    seqs.add(item.seq);
  });
  setHandler(recordUpdate, async (value) => {
    const echoed = await msgCrashEcho(value);
    updates.push(echoed);
    return `recorded:${echoed}`;
  });
  setHandler(stateQuery, () => ({ runId: info.runId, phase, signals, updates, child }));

  await condition(
    () => seqs.size >= expectedSignals && new Set(updates).size >= expectedUpdates && allHandlersFinished(),
  );
  phase = 'child';
  child = await executeChild('msgCrashChildWorkflow', {
    workflowId: `${id}-child`,
    args: [id],
    workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
  });
  phase = 'continuing';
  return await continueAsNew(id, expectedSignals, expectedUpdates, {
    signals,
    updates,
    child,
    firstRunId: info.runId,
  });
};

/** Child: a timer, then an activity. */
exports.msgCrashChildWorkflow = async function msgCrashChildWorkflow(id) {
  await sleep(600);
  const work = await msgCrashChildWork(id);
  return `child:${work}`;
};
