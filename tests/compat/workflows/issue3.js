'use strict';
// Workflows for tests/compat/chains.test.js, messaging.test.js and children.test.js.
// Names carry a per-suite prefix (chain / msg / child) so they cannot collide with other
// workflow files re-exported by index.js. Activities referenced here (msgSlowActivity,
// msgEchoActivity) are defined in messaging.test.js and registered on its workers.
// WorkflowExecutionAlreadyStartedError is not re-exported by @temporalio/workflow 1.24.
const { WorkflowExecutionAlreadyStartedError } = require('@temporalio/common');
const {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} = require('@temporalio/workflow');

// ---- chains ----------------------------------------------------------------------------------

/**
 * Continues as new until `iteration` reaches `total`; every run appends its run id to `trail`.
 * The last run returns what it saw (no memo is passed to continueAsNew: it must be carried over).
 */
exports.chainContinueAsNewWorkflow = async function chainContinueAsNewWorkflow(iteration, total, trail) {
  const info = workflowInfo();
  const runs = [...(trail ?? []), info.runId];
  if (iteration < total) {
    await continueAsNew(iteration + 1, total, runs);
  }
  return {
    iteration,
    runs,
    continuedFromExecutionRunId: info.continuedFromExecutionRunId ?? null,
    firstExecutionRunId: info.firstExecutionRunId,
    memo: info.memo ?? null,
  };
};

/**
 * Fails with a (retryable) ApplicationFailure of type `errorType` until workflowInfo().attempt
 * reaches `succeedOnAttempt`. The server retries the whole workflow per its retry policy.
 */
exports.chainAttemptRetryWorkflow = async function chainAttemptRetryWorkflow(succeedOnAttempt, errorType) {
  const { attempt, runId, firstExecutionRunId } = workflowInfo();
  if (attempt < succeedOnAttempt) {
    throw ApplicationFailure.create({ message: `attempt ${attempt} failed`, type: errorType });
  }
  return { attempt, runId, firstExecutionRunId };
};

/** A cron run: returns immediately with its run id. */
exports.chainCronWorkflow = async function chainCronWorkflow() {
  const { runId, attempt } = workflowInfo();
  return { runId, attempt };
};

// ---- messaging -------------------------------------------------------------------------------

const itemSignal = defineSignal('item');
const itemsQuery = defineQuery('items');

/**
 * Collects the values of `item` signals until `expected` arrived. `seenBeforeFirstAwait` is the list
 * of items already delivered right after the handler was registered, before the first await.
 */
exports.msgSignalCollectorWorkflow = async function msgSignalCollectorWorkflow(expected) {
  const items = [];
  setHandler(itemSignal, (v) => {
    items.push(v);
  });
  setHandler(itemsQuery, () => items);
  const seenBeforeFirstAwait = items.slice();
  await condition(() => items.length >= expected);
  return { seenBeforeFirstAwait, items };
};

const phaseQuery = defineQuery('phase');
const failingQuery = defineQuery('failingQuery');

/** phase: 'started' -> 'in-activity' (a `ms` long activity) -> 'done'. */
exports.msgQueryableWorkflow = async function msgQueryableWorkflow(key, ms) {
  let phase = 'started';
  setHandler(phaseQuery, () => phase);
  setHandler(failingQuery, () => {
    throw new Error('query handler failed on purpose');
  });
  const { msgSlowActivity } = proxyActivities({ startToCloseTimeout: '30s', retry: { maximumAttempts: 1 } });
  phase = 'in-activity';
  await msgSlowActivity(key, ms);
  phase = 'done';
  return phase;
};

const addUpdate = defineUpdate('addViaActivity');
const finishSignal = defineSignal('finish');
const logQuery = defineQuery('log');

/**
 * Update `addViaActivity(value)` runs an activity and returns `added:<value>`; its validator rejects
 * values that are not strings or start with 'bad'. Runs until the `finish` signal, returns the log.
 */
exports.msgUpdatableWorkflow = async function msgUpdatableWorkflow() {
  const log = [];
  let finished = false;
  const { msgEchoActivity } = proxyActivities({ startToCloseTimeout: '10s' });
  setHandler(
    addUpdate,
    async (value) => {
      const echoed = await msgEchoActivity(value);
      log.push(echoed);
      return `added:${echoed}`;
    },
    {
      validator: (value) => {
        if (typeof value !== 'string' || value.startsWith('bad')) {
          throw new Error(`rejected ${value}`);
        }
      },
    },
  );
  setHandler(finishSignal, () => {
    finished = true;
  });
  setHandler(logQuery, () => log);
  await condition(() => finished && allHandlersFinished());
  return log;
};

// ---- children --------------------------------------------------------------------------------

exports.childEchoWorkflow = async function childEchoWorkflow(value) {
  const { workflowId, parent } = workflowInfo();
  return { echoed: `child got ${value}`, workflowId, parentWorkflowId: parent ? parent.workflowId : null };
};

exports.childFailingWorkflow = async function childFailingWorkflow(message) {
  throw ApplicationFailure.create({ message, type: 'ChildBoom', nonRetryable: true });
};

/** Child that just waits (terminated / abandoned by the tests). */
exports.childSleeperWorkflow = async function childSleeperWorkflow() {
  await sleep('1h');
  return 'child woke up';
};

/** Parent that executes childEchoWorkflow and returns its result. */
exports.childParentExecuteWorkflow = async function childParentExecuteWorkflow(childId) {
  return await executeChild('childEchoWorkflow', { workflowId: childId, args: ['from-parent'] });
};

/** Parent whose child fails: the ChildWorkflowFailure is not caught, so the parent fails with it. */
exports.childParentFailingWorkflow = async function childParentFailingWorkflow(childId) {
  return await executeChild('childFailingWorkflow', { workflowId: childId, args: ['child boom'] });
};

/**
 * Starts childSleeperWorkflow with `parentClosePolicy` (undefined = SDK default TERMINATE) and
 * either returns right after the child started (`waitForever` false) or sleeps for an hour.
 */
exports.childParentStartWorkflow = async function childParentStartWorkflow(childId, parentClosePolicy, waitForever) {
  const options = { workflowId: childId };
  if (parentClosePolicy) options.parentClosePolicy = parentClosePolicy;
  const child = await startChild('childSleeperWorkflow', options);
  if (waitForever) await sleep('1h');
  return { childWorkflowId: child.workflowId, childRunId: child.firstExecutionRunId };
};

/** Tries to start a child whose workflow id is already in use; reports the error it saw. */
exports.childParentDuplicateWorkflow = async function childParentDuplicateWorkflow(childId) {
  try {
    await startChild('childSleeperWorkflow', { workflowId: childId });
    return { started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return {
        started: false,
        error: 'WorkflowExecutionAlreadyStartedError',
        workflowId: err.workflowId,
        workflowType: err.workflowType,
      };
    }
    throw err;
  }
};
