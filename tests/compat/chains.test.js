'use strict';
// Compatibility suite: execution chains (continue-as-new, workflow retry policy, cron) with the
// official Temporal TypeScript SDK (1.24.0) against temporalite. Expectations follow a real
// Temporal server, not whatever temporalite happens to do today.
//
// One server for the whole file; each test uses its own task queue and workflow ids.
// Run: node --test tests/compat/chains.test.js   (env TEMPORALITE_BIN overrides the binary;
// TEMPORALITE_SLOW_TESTS=1 also runs the ~2 minute cron test)

const assert = require('node:assert/strict');

const { WorkflowFailedError, ApplicationFailure } = require('@temporalio/client');
const { temporal } = require('@temporalio/proto');

const { pollUntil, eventsOfType, eventTypeNames, uniqueName } = require('./harness');
const { TEST_TIMEOUT, setupSuite, resultWithin, describeErr, test, statusName } = require('./suite');

const { RetryState, ContinueAsNewInitiator } = temporal.api.enums.v1;

const suite = setupSuite();
const { withWorker, terminateQuietly } = suite;

function lastEvent(history) {
  const events = history.events ?? [];
  return events[events.length - 1];
}

function durationMs(d) {
  if (!d) return 0;
  return Number(d.seconds ?? 0) * 1000 + Math.floor((d.nanos ?? 0) / 1e6);
}

test('continue-as-new three times: result follows the chain, memo carried over', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-can');
  const workflowId = uniqueName('wf-can');
  const memo = { owner: 'chains-test', n: 42 };
  const handle = await suite.client.workflow.start('chainContinueAsNewWorkflow', {
    taskQueue,
    workflowId,
    args: [0, 3, []],
    memo,
  });
  const firstRunId = handle.firstExecutionRunId;
  assert.ok(firstRunId, 'start returned a run id');

  // result() of a handle started with the first run id follows ContinuedAsNew events.
  let result;
  try {
    result = await withWorker(taskQueue, () => resultWithin(handle));
  } catch (e) {
    await terminateQuietly(workflowId);
    throw e;
  }
  assert.equal(result.iteration, 3);
  assert.equal(result.runs.length, 4, `runs: ${result.runs}`);
  assert.equal(result.runs[0], firstRunId);
  assert.equal(new Set(result.runs).size, 4, 'every run has its own run id');
  assert.equal(result.continuedFromExecutionRunId, result.runs[2]);
  assert.equal(result.firstExecutionRunId, firstRunId, 'workflowInfo().firstExecutionRunId is the chain start');
  assert.deepEqual(result.memo, memo, 'workflowInfo().memo of the last run');

  // Latest run: COMPLETED, memo carried over. The workflow passes no memo to continueAsNew;
  // sdk-core fills the command's memo (and search attributes) from the current run, and the server
  // starts the new run with the command's memo.
  const finalDesc = await suite.client.workflow.getHandle(workflowId).describe();
  assert.equal(finalDesc.runId, result.runs[3]);
  assert.equal(statusName(finalDesc), 'COMPLETED');
  assert.deepEqual(finalDesc.memo, memo);

  // Every earlier run ends with WorkflowExecutionContinuedAsNew pointing at the next run.
  for (let i = 0; i < 3; i++) {
    const runHandle = suite.client.workflow.getHandle(workflowId, result.runs[i]);
    const history = await runHandle.fetchHistory();
    const names = eventTypeNames(history);
    assert.equal(names[names.length - 1], 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW', `run ${i} history: ${names}`);
    const attrs = lastEvent(history).workflowExecutionContinuedAsNewEventAttributes;
    assert.equal(attrs.newExecutionRunId, result.runs[i + 1], `run ${i} newExecutionRunId`);
    assert.equal(attrs.workflowType.name, 'chainContinueAsNewWorkflow');
    assert.equal(statusName(await runHandle.describe()), 'CONTINUED_AS_NEW', `run ${i} status`);
  }

  // The last run's started event links back to the chain.
  const lastHistory = await suite.client.workflow.getHandle(workflowId, result.runs[3]).fetchHistory();
  const started = lastHistory.events[0].workflowExecutionStartedEventAttributes;
  assert.equal(started.continuedExecutionRunId, result.runs[2]);
  assert.equal(started.firstExecutionRunId, firstRunId);
  assert.equal(started.initiator, ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW);
  assert.equal(started.originalExecutionRunId, result.runs[3]);
  // Started without execution or run timeout: the new run's are absent too (not zero durations).
  assert.equal(started.workflowExecutionTimeout, null);
  assert.equal(started.workflowRunTimeout, null);
});

test('workflow retry policy: fails on attempts 1 and 2, succeeds on 3', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-wfretry');
  const workflowId = uniqueName('wf-wfretry');
  const handle = await suite.client.workflow.start('chainAttemptRetryWorkflow', {
    taskQueue,
    workflowId,
    args: [3, 'RetryMe'],
    retry: { initialInterval: '200ms', backoffCoefficient: 1, maximumAttempts: 5 },
  });
  const firstRunId = handle.firstExecutionRunId;
  let result;
  try {
    result = await withWorker(taskQueue, () => resultWithin(handle));
  } catch (e) {
    await terminateQuietly(workflowId);
    throw e;
  }
  assert.equal(result.attempt, 3);
  assert.equal(result.firstExecutionRunId, firstRunId);
  assert.notEqual(result.runId, firstRunId);

  // Walk the chain: runs 1 and 2 end with WorkflowExecutionFailed, retryState IN_PROGRESS and
  // new_execution_run_id naming the retry run.
  let runId = firstRunId;
  for (let attempt = 1; attempt <= 2; attempt++) {
    const runHandle = suite.client.workflow.getHandle(workflowId, runId);
    const history = await runHandle.fetchHistory();
    const names = eventTypeNames(history);
    assert.equal(names[names.length - 1], 'WORKFLOW_EXECUTION_FAILED', `attempt ${attempt} history: ${names}`);
    const attrs = lastEvent(history).workflowExecutionFailedEventAttributes;
    assert.equal(attrs.retryState, RetryState.RETRY_STATE_IN_PROGRESS, `attempt ${attempt} retryState`);
    assert.ok(attrs.newExecutionRunId, `attempt ${attempt} newExecutionRunId set`);
    assert.equal(attrs.failure.message, `attempt ${attempt} failed`);
    assert.equal(attrs.failure.applicationFailureInfo.type, 'RetryMe');
    assert.equal(history.events[0].workflowExecutionStartedEventAttributes.attempt, attempt);
    // Real Temporal closes a retried run with status FAILED (only continue-as-new has its own
    // status).
    assert.equal(statusName(await runHandle.describe()), 'FAILED', `attempt ${attempt} status`);
    runId = attrs.newExecutionRunId;
  }
  assert.equal(runId, result.runId, 'the chain ends at the run that returned the result');

  const finalHandle = suite.client.workflow.getHandle(workflowId, runId);
  assert.equal(statusName(await finalHandle.describe()), 'COMPLETED');
  const history = await finalHandle.fetchHistory();
  const started = history.events[0].workflowExecutionStartedEventAttributes;
  assert.equal(started.attempt, 3);
  assert.equal(started.initiator, ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_RETRY);
  assert.equal(started.firstExecutionRunId, firstRunId);
  assert.ok(started.continuedFailure, 'retry run carries the previous failure');
  assert.equal(started.continuedFailure.message, 'attempt 2 failed');
  // backoffCoefficient 1: each retry waits initialInterval (200 ms) before its first workflow task.
  assert.equal(durationMs(started.firstWorkflowTaskBackoff), 200, 'firstWorkflowTaskBackoff');
  assert.equal(started.retryPolicy.maximumAttempts, 5, 'retry policy carried to the retry run');
  const latest = await suite.client.workflow.getHandle(workflowId).describe();
  assert.equal(latest.runId, runId);
});

test('workflow retry policy: nonRetryableErrorTypes stops after one attempt', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-wfnoretry');
  const workflowId = uniqueName('wf-wfnoretry');
  const handle = await suite.client.workflow.start('chainAttemptRetryWorkflow', {
    taskQueue,
    workflowId,
    args: [3, 'NoRetryType'],
    retry: {
      initialInterval: '200ms',
      backoffCoefficient: 1,
      maximumAttempts: 5,
      nonRetryableErrorTypes: ['NoRetryType'],
    },
  });
  const firstRunId = handle.firstExecutionRunId;
  const failed = withWorker(taskQueue, () =>
    assert.rejects(resultWithin(handle), (err) => {
      assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${describeErr(err)}`);
      assert.ok(err.cause instanceof ApplicationFailure, `expected ApplicationFailure, got ${err.cause}`);
      assert.equal(err.cause.type, 'NoRetryType');
      assert.equal(err.cause.message, 'attempt 1 failed');
      assert.equal(err.retryState, 'NON_RETRYABLE_FAILURE');
      return true;
    }),
  );
  try {
    await failed;
  } catch (e) {
    await terminateQuietly(workflowId);
    throw e;
  }
  const desc = await suite.client.workflow.getHandle(workflowId).describe();
  assert.equal(desc.runId, firstRunId, 'no retry run was created');
  assert.equal(statusName(desc), 'FAILED');
  const history = await suite.client.workflow.getHandle(workflowId, firstRunId).fetchHistory();
  const names = eventTypeNames(history);
  assert.equal(names[names.length - 1], 'WORKFLOW_EXECUTION_FAILED', `history: ${names}`);
  const attrs = lastEvent(history).workflowExecutionFailedEventAttributes;
  assert.equal(attrs.retryState, RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE);
  assert.ok(!attrs.newExecutionRunId, `newExecutionRunId must be empty, got ${attrs.newExecutionRunId}`);
});

test('cron workflow: start succeeds, first run waits for the next schedule time', { timeout: TEST_TIMEOUT }, async () => {
  // No worker: this only checks what the server records for a cron start. Cron granularity is one
  // minute, so the first run is due at the next minute boundary (up to 60 s away).
  const taskQueue = uniqueName('tq-cron');
  const workflowId = uniqueName('wf-cron');
  const cronSchedule = '* * * * *';
  const before = Date.now();
  const handle = await suite.client.workflow.start('chainCronWorkflow', { taskQueue, workflowId, cronSchedule });
  try {
    assert.ok(handle.firstExecutionRunId, 'start returned a run id');
    const desc = await handle.describe();
    assert.equal(statusName(desc), 'RUNNING');
    assert.equal(desc.runId, handle.firstExecutionRunId);
    assert.ok(desc.executionTime instanceof Date, `executionTime: ${desc.executionTime}`);
    const execMs = desc.executionTime.getTime();
    assert.ok(execMs > desc.startTime.getTime(), `executionTime ${desc.executionTime.toISOString()} after startTime`);
    assert.ok(execMs <= before + 61000, `executionTime ${desc.executionTime.toISOString()} within a minute`);
    // '* * * * *' fires on minute boundaries (UTC). Real Temporal's executionTime is startTime + the
    // backoff rounded up to whole seconds, so it lies in [boundary, boundary + 1 s); allow 1.5 s.
    const fromBoundary = Math.min(execMs % 60000, 60000 - (execMs % 60000));
    assert.ok(fromBoundary <= 1500, `executionTime ${desc.executionTime.toISOString()} is not on a minute boundary`);

    const history = await handle.fetchHistory();
    const started = history.events[0].workflowExecutionStartedEventAttributes;
    assert.equal(started.cronSchedule, cronSchedule);
    const backoff = durationMs(started.firstWorkflowTaskBackoff);
    assert.ok(backoff > 0 && backoff <= 60000, `firstWorkflowTaskBackoff ${backoff} ms`);
    // Real Temporal rounds the cron backoff up to whole seconds (backoff.GetBackoffForNextSchedule).
    assert.equal(started.firstWorkflowTaskBackoff.nanos ?? 0, 0, 'cron backoff is whole seconds');
    // Real Temporal schedules the first workflow task only when the backoff has elapsed; when the
    // schedule time is still comfortably ahead, the history holds only the started event.
    if (execMs - Date.now() > 2000) {
      assert.deepEqual(eventTypeNames(history), ['WORKFLOW_EXECUTION_STARTED']);
    }
  } finally {
    await handle.terminate('cron test done').catch(() => {});
  }
  assert.equal(statusName(await handle.describe()), 'TERMINATED');
});

test(
  'cron workflow: two scheduled runs (slow, ~2 min)',
  { timeout: 200000, skip: !process.env.TEMPORALITE_SLOW_TESTS && 'set TEMPORALITE_SLOW_TESTS=1 (needs ~2 minutes)' },
  async () => {
    const taskQueue = uniqueName('tq-cron2');
    const workflowId = uniqueName('wf-cron2');
    const cronSchedule = '* * * * *';
    const handle = await suite.client.workflow.start('chainCronWorkflow', { taskQueue, workflowId, cronSchedule });
    const firstRunId = handle.firstExecutionRunId;
    try {
      await withWorker(taskQueue, async () => {
        // Wait until the second run has completed (at most two minute boundaries away).
        const secondRunId = await pollUntil(
          async () => {
            const h = await suite.client.workflow.getHandle(workflowId, firstRunId).fetchHistory();
            const ev = lastEvent(h);
            const attrs = ev && ev.workflowExecutionCompletedEventAttributes;
            if (!attrs || !attrs.newExecutionRunId) return null;
            const second = await suite.client.workflow.getHandle(workflowId, attrs.newExecutionRunId).fetchHistory();
            return eventsOfType(second, 'WORKFLOW_EXECUTION_COMPLETED').length > 0 ? attrs.newExecutionRunId : null;
          },
          { timeoutMs: 150000, intervalMs: 1000, what: 'second cron run completed' },
        );
        // Each completed cron run reports its result and names the next run.
        assert.equal(statusName(await suite.client.workflow.getHandle(workflowId, firstRunId).describe()), 'COMPLETED');
        const second = await suite.client.workflow.getHandle(workflowId, secondRunId).fetchHistory();
        const started = second.events[0].workflowExecutionStartedEventAttributes;
        assert.equal(started.initiator, ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE);
        assert.equal(started.continuedExecutionRunId, firstRunId);
        assert.equal(started.cronSchedule, cronSchedule);
        assert.equal(started.firstExecutionRunId, firstRunId);
        assert.ok(durationMs(started.firstWorkflowTaskBackoff) > 0, 'cron run waits for its schedule time');
        const completed = lastEvent(second).workflowExecutionCompletedEventAttributes;
        assert.ok(completed.newExecutionRunId, 'the second run names a third run');
        const latest = await suite.client.workflow.getHandle(workflowId).describe();
        assert.equal(latest.runId, completed.newExecutionRunId);
        assert.equal(statusName(latest), 'RUNNING');
      });
    } finally {
      await suite.client.workflow.getHandle(workflowId).terminate('cron test done').catch(() => {});
    }
  },
);
