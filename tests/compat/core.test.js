'use strict';
// Compatibility suite: the official Temporal TypeScript SDK (client + worker, 1.24.0) against
// temporalite. Expectations follow a real Temporal server (the SDK is the judge), not whatever
// temporalite happens to do today.
//
// One server for the whole file; each test uses its own task queue and workflow ids.
// Run: node --test tests/compat/core.test.js   (env TEMPORALITE_BIN overrides the binary)

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');

const {
  Client,
  Connection,
  WorkflowFailedError,
  WorkflowExecutionAlreadyStartedError,
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  TerminatedFailure,
  CancelledFailure,
} = require('@temporalio/client');

const { defaultPayloadConverter } = require('@temporalio/common');
const proto = require('@temporalio/proto');
const { withTimeout, pollUntil, eventsOfType, eventTypeNames, uniqueName, startServer } = require('./harness');
const { TEST_TIMEOUT, NS, setupSuite, statusName, waitForEvent } = require('./suite');
const { state, activities, onStep } = require('./activities');

const suite = setupSuite({ activities });
const { createWorker, withWorker, liveWorkers } = suite;

test('workflow runs one activity and returns its result', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-greet');
  const result = await withWorker(taskQueue, () =>
    suite.client.workflow.execute('greetWorkflow', {
      taskQueue,
      workflowId: uniqueName('wf-greet'),
      args: ['Temporal'],
    }),
  );
  assert.equal(result, 'Hello, Temporal!');
});

test('activity fails twice then succeeds under a retry policy', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-retry');
  const workflowId = uniqueName('wf-retry');
  const key = workflowId;
  const handle = await suite.client.workflow.start('retryWorkflow', { taskQueue, workflowId, args: [key, 2] });
  const result = await withWorker(taskQueue, () => handle.result());
  assert.equal(result, 'ok after 3 attempts');
  assert.equal(state.calls.get(key), 3, 'activity should have run exactly 3 times');
  assert.deepEqual(state.attempts.get(key), [1, 2, 3], 'Context.info.attempt per execution');

  // Real Temporal does not write history events for retried attempts: only the last attempt's
  // ActivityTaskStarted (with its attempt number) and the completion are recorded.
  const history = await handle.fetchHistory();
  const started = eventsOfType(history, 'ACTIVITY_TASK_STARTED');
  assert.equal(started.length, 1, `one ActivityTaskStarted expected, history: ${eventTypeNames(history)}`);
  assert.equal(started[0].activityTaskStartedEventAttributes.attempt, 3);
  assert.equal(eventsOfType(history, 'ACTIVITY_TASK_COMPLETED').length, 1);
  assert.equal(eventsOfType(history, 'ACTIVITY_TASK_FAILED').length, 0);
  const failure = started[0].activityTaskStartedEventAttributes.lastFailure;
  // The started event of a retried attempt carries the previous attempt's failure.
  assert.ok(failure && /flaky failure #2/.test(failure.message), `lastFailure: ${failure && failure.message}`);
});

function assertNonRetryableActivityFailure(err, { message, type }) {
  assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${err && err.stack}`);
  assert.ok(err.cause instanceof ActivityFailure, `expected ActivityFailure cause, got ${err.cause}`);
  assert.ok(err.cause.cause instanceof ApplicationFailure, `expected ApplicationFailure, got ${err.cause.cause}`);
  assert.equal(err.cause.cause.message, message);
  assert.equal(err.cause.cause.type, type);
  assert.equal(err.cause.retryState, 'NON_RETRYABLE_FAILURE');
  return true;
}

test('non-retryable activity failure (ApplicationFailure.nonRetryable) fails the workflow', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-nonretry');
  const workflowId = uniqueName('wf-nonretry');
  const handle = await suite.client.workflow.start('nonRetryableWorkflow', { taskQueue, workflowId, args: [workflowId] });
  await withWorker(taskQueue, () =>
    assert.rejects(handle.result(), (err) =>
      assertNonRetryableActivityFailure(err, { message: 'fatal activity error', type: 'FatalError' }),
    ),
  );
  assert.equal(state.calls.get(workflowId), 1, 'non-retryable activity must run once');
  assert.equal(statusName(await handle.describe()), 'FAILED');
});

test('non-retryable activity failure (retry.nonRetryableErrorTypes) fails the workflow', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-nonretry-type');
  const workflowId = uniqueName('wf-nonretry-type');
  const handle = await suite.client.workflow.start('nonRetryableTypeWorkflow', { taskQueue, workflowId, args: [workflowId] });
  await withWorker(taskQueue, () =>
    assert.rejects(handle.result(), (err) =>
      assertNonRetryableActivityFailure(err, { message: 'typed fatal activity error', type: 'MyNonRetryableType' }),
    ),
  );
  assert.equal(state.calls.get(workflowId), 1, 'activity with a non-retryable error type must run once');
});

test('heartbeat timeout surfaces as TimeoutFailure(HEARTBEAT)', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-hbtimeout');
  const workflowId = uniqueName('wf-hbtimeout');
  const handle = await suite.client.workflow.start('heartbeatTimeoutWorkflow', { taskQueue, workflowId, args: [workflowId] });
  let failedAt = 0;
  await withWorker(taskQueue, () =>
    assert.rejects(handle.result(), (err) => {
      failedAt = Date.now();
      assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${err && err.stack}`);
      assert.ok(err.cause instanceof ActivityFailure, `expected ActivityFailure, got ${err.cause}`);
      assert.ok(err.cause.cause instanceof TimeoutFailure, `expected TimeoutFailure, got ${err.cause.cause}`);
      assert.equal(err.cause.cause.timeoutType, 'HEARTBEAT');
      return true;
    }),
  );
  // Heartbeat timeout is 1 s, the activity would sleep 5 s: the timeout must come from the server,
  // well before the sleep ends. Measured from the activity's start on the worker (not from the
  // workflow's start, which includes the worker's start-up: seconds on a loaded machine).
  const startedAt = state.startedAt.get(workflowId);
  assert.ok(startedAt > 0, 'the activity started');
  const elapsed = failedAt - startedAt;
  assert.ok(elapsed < 4500, `the workflow failed ${elapsed} ms after the activity started`);
  assert.equal(state.calls.get(workflowId), 1, 'maximumAttempts 1: the activity runs once');
  const history = await handle.fetchHistory();
  assert.equal(eventsOfType(history, 'ACTIVITY_TASK_TIMED_OUT').length, 1, `history: ${eventTypeNames(history)}`);
});

test('activity cancellation is delivered through heartbeat', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-cancel-act');
  const workflowId = uniqueName('wf-cancel-act');
  const handle = await suite.client.workflow.start('cancelActivityWorkflow', { taskQueue, workflowId, args: [workflowId] });
  const result = await withWorker(taskQueue, () => handle.result());
  assert.equal(result, 'activity cancelled');
  assert.equal(state.calls.get(workflowId), 1);
  // 'CANCELLED' is the SDK's ActivityCancelReason when the server answered a heartbeat with
  // cancel_requested=true (as opposed to NOT_FOUND / TIMED_OUT / WORKER_SHUTDOWN).
  assert.equal(state.cancelled.get(workflowId), 'CANCELLED', 'the activity must have observed the cancellation');
  const history = await handle.fetchHistory();
  const names = eventTypeNames(history);
  assert.equal(eventsOfType(history, 'ACTIVITY_TASK_CANCEL_REQUESTED').length, 1, `history: ${names}`);
  assert.equal(eventsOfType(history, 'ACTIVITY_TASK_CANCELED').length, 1, `history: ${names}`);
  assert.equal(eventsOfType(history, 'ACTIVITY_TASK_COMPLETED').length, 0, `history: ${names}`);
  assert.equal(eventsOfType(history, 'WORKFLOW_EXECUTION_COMPLETED').length, 1, `history: ${names}`);
});

test('workflow.sleep timer fires after its duration', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-timer');
  const workflowId = uniqueName('wf-timer');
  const t0 = Date.now();
  const handle = await suite.client.workflow.start('timerWorkflow', { taskQueue, workflowId, args: ['1s'] });
  const workflowElapsed = await withWorker(taskQueue, () => handle.result());
  const elapsed = Date.now() - t0;
  // Both clocks are this machine's; a few ms of slack for clock granularity.
  assert.ok(elapsed >= 995, `result after ${elapsed} ms, expected >= 1000`);
  assert.ok(workflowElapsed >= 1000, `workflow time advanced ${workflowElapsed} ms, expected >= 1000`);
  const history = await handle.fetchHistory();
  const names = eventTypeNames(history);
  const started = eventsOfType(history, 'TIMER_STARTED');
  const fired = eventsOfType(history, 'TIMER_FIRED');
  assert.equal(started.length, 1, `history: ${names}`);
  assert.equal(fired.length, 1, `history: ${names}`);
  assert.equal(fired[0].timerFiredEventAttributes.startedEventId.toString(), started[0].eventId.toString());
  const timeout = started[0].timerStartedEventAttributes.startToFireTimeout;
  assert.equal(String(timeout.seconds), '1');
});

test('terminate: result rejects with TerminatedFailure, status TERMINATED', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-terminate');
  const workflowId = uniqueName('wf-terminate');
  const handle = await suite.client.workflow.start('sleepLongWorkflow', { taskQueue, workflowId });
  await withWorker(taskQueue, async () => {
    await waitForEvent(handle, 'TIMER_STARTED');
    await handle.terminate('terminated by compat test');
    await assert.rejects(handle.result(), (err) => {
      assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${err && err.stack}`);
      assert.ok(err.cause instanceof TerminatedFailure, `expected TerminatedFailure, got ${err.cause}`);
      assert.equal(err.cause.message, 'terminated by compat test');
      return true;
    });
  });
  const desc = await handle.describe();
  assert.equal(statusName(desc), 'TERMINATED');
  assert.ok(desc.closeTime instanceof Date, 'closeTime set');
  const names = eventTypeNames(await handle.fetchHistory());
  assert.equal(names[names.length - 1], 'WORKFLOW_EXECUTION_TERMINATED', `history: ${names}`);
});

test('a terminate with no reason or identity gets Temporal frontend\'s defaults', { timeout: TEST_TIMEOUT }, async () => {
  // Temporal's workflow_handler.go fills an empty reason with "terminated by user via frontend"
  // and an empty identity with "frontend-service" (the SDK's client always sends an identity,
  // so the raw call leaves both out).
  const workflowId = uniqueName('wf-terminate-defaults');
  const handle = await suite.client.workflow.start('sleepLongWorkflow', { taskQueue: uniqueName('tq-td'), workflowId });
  await suite.connection.workflowService.terminateWorkflowExecution({ namespace: NS, workflowExecution: { workflowId } });
  await assert.rejects(handle.result(), (err) => {
    assert.ok(err.cause instanceof TerminatedFailure, `expected TerminatedFailure, got ${err.cause}`);
    assert.equal(err.cause.message, 'terminated by user via frontend');
    return true;
  });
  const [terminated] = eventsOfType(await handle.fetchHistory(), 'WORKFLOW_EXECUTION_TERMINATED');
  const a = terminated.workflowExecutionTerminatedEventAttributes;
  assert.equal(a.reason, 'terminated by user via frontend');
  assert.equal(a.identity, 'frontend-service');
});

test('cancel: result rejects with CancelledFailure, status CANCELLED', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-cancel');
  const workflowId = uniqueName('wf-cancel');
  const handle = await suite.client.workflow.start('sleepLongWorkflow', { taskQueue, workflowId });
  await withWorker(taskQueue, async () => {
    await waitForEvent(handle, 'TIMER_STARTED');
    await handle.cancel();
    await assert.rejects(handle.result(), (err) => {
      assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${err && err.stack}`);
      assert.ok(err.cause instanceof CancelledFailure, `expected CancelledFailure, got ${err.cause}`);
      return true;
    });
  });
  assert.equal(statusName(await handle.describe()), 'CANCELLED');
  const history = await handle.fetchHistory();
  const names = eventTypeNames(history);
  assert.equal(eventsOfType(history, 'WORKFLOW_EXECUTION_CANCEL_REQUESTED').length, 1, `history: ${names}`);
  assert.equal(names[names.length - 1], 'WORKFLOW_EXECUTION_CANCELED', `history: ${names}`);
});

test('DescribeWorkflowExecution shows the pending activity with attempt and last failure', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-pending');
  const workflowId = uniqueName('wf-pending');
  const handle = await suite.client.workflow.start('pendingActivityWorkflow', { taskQueue, workflowId, args: [workflowId] });
  try {
    await withWorker(taskQueue, async () => {
      const pa = await pollUntil(
        async () => {
          const desc = await handle.describe();
          const p = (desc.raw.pendingActivities ?? [])[0];
          return p && p.attempt >= 2 && p.lastFailure && /always fails/.test(p.lastFailure.message) ? p : null;
        },
        { timeoutMs: 15000, intervalMs: 100, what: 'pending activity with attempt >= 2' },
      );
      assert.equal(pa.activityType.name, 'alwaysFails');
      assert.ok(pa.activityId, 'activityId set');
      assert.ok(pa.maximumAttempts === 0 || pa.maximumAttempts == null, `maximumAttempts ${pa.maximumAttempts}`);
      const desc = await handle.describe();
      assert.equal(statusName(desc), 'RUNNING');
      assert.equal(desc.raw.pendingActivities.length, 1);
    });
  } finally {
    await handle.terminate('pending activity test done').catch(() => {});
  }
  assert.equal(statusName(await handle.describe()), 'TERMINATED');
});

test('duplicate start with the same workflowId is rejected while running', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-dup');
  const workflowId = uniqueName('wf-dup');
  const first = await suite.client.workflow.start('sleepLongWorkflow', { taskQueue, workflowId });
  try {
    await assert.rejects(suite.client.workflow.start('sleepLongWorkflow', { taskQueue, workflowId }), (err) => {
      assert.ok(
        err instanceof WorkflowExecutionAlreadyStartedError,
        `expected WorkflowExecutionAlreadyStartedError, got ${err && err.stack}`,
      );
      assert.equal(err.workflowId, workflowId);
      return true;
    });
    const desc = await suite.client.workflow.getHandle(workflowId).describe();
    assert.equal(desc.runId, first.firstExecutionRunId, 'the running execution is still the first one');
  } finally {
    await first.terminate('dup test done').catch(() => {});
  }
});

test('a TERMINATE_EXISTING start terminates the running run as Temporal does (reason, identity, details naming the new run)', { timeout: TEST_TIMEOUT }, async () => {
  // Temporal's create_workflow_util.go: reason "TerminateIfRunning WorkflowIdReusePolicy", identity
  // "history-service" (not the starter's), details the string "terminated by new runID: <new run>".
  const taskQueue = uniqueName('tq-term-existing');
  const workflowId = uniqueName('wf-term-existing');
  const first = await suite.client.workflow.start('sleepLongWorkflow', { taskQueue, workflowId });
  const second = await suite.client.workflow.start('sleepLongWorkflow', {
    taskQueue, workflowId, workflowIdConflictPolicy: 'TERMINATE_EXISTING', identity: 'second-starter',
  });
  try {
    assert.notEqual(second.firstExecutionRunId, first.firstExecutionRunId);
    const old = suite.client.workflow.getHandle(workflowId, first.firstExecutionRunId);
    assert.equal(statusName(await old.describe()), 'TERMINATED');
    const terminated = eventsOfType(await old.fetchHistory(), 'WORKFLOW_EXECUTION_TERMINATED');
    assert.equal(terminated.length, 1);
    const a = terminated[0].workflowExecutionTerminatedEventAttributes;
    assert.equal(a.reason, 'TerminateIfRunning WorkflowIdReusePolicy');
    assert.equal(a.identity, 'history-service');
    assert.equal(a.details.payloads.length, 1);
    assert.equal(defaultPayloadConverter.fromPayload(a.details.payloads[0]),
      `terminated by new runID: ${second.firstExecutionRunId}`);
  } finally {
    await second.terminate('terminate-existing test done').catch(() => {});
  }
});

test('raw StartWorkflowExecution with the same requestId is deduplicated', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-reqid');
  const workflowId = uniqueName('wf-reqid');
  const request = {
    namespace: NS,
    workflowId,
    workflowType: { name: 'whoAmIWorkflow' },
    taskQueue: { name: taskQueue },
    requestId: randomUUID(),
    identity: 'compat-test',
  };
  const r1 = await suite.connection.workflowService.startWorkflowExecution(request);
  const r2 = await suite.connection.workflowService.startWorkflowExecution({ ...request });
  assert.ok(r1.runId, 'runId returned');
  assert.equal(r1.firstExecutionRunId, r1.runId, 'a new run is the first of its chain');
  assert.equal(r2.runId, r1.runId, 'same requestId must return the same run');
  // Temporal's respondToRetriedRequest: the retry is answered as the start was, "started".
  assert.equal(r2.started, true);
  assert.equal(r2.firstExecutionRunId, r1.runId);
  const handle = suite.client.workflow.getHandle(workflowId, r1.runId);
  const result = await withWorker(taskQueue, () => handle.result());
  assert.deepEqual(result, { workflowId, runId: r1.runId });
  const history = await handle.fetchHistory();
  assert.equal(eventsOfType(history, 'WORKFLOW_EXECUTION_STARTED').length, 1);
});

// The one google.rpc.Status detail of gRPC error `err`, decoded as temporal.api.errordetails.v1.<type>.
function errorDetail(err, type) {
  const [bin] = err.metadata.get('grpc-status-details-bin');
  assert.ok(bin, `no status details on ${err.details}`);
  const any = proto.google.rpc.Status.decode(bin).details.find((d) => d.type_url.endsWith(`.${type}`));
  assert.ok(any, `no ${type} in the status details`);
  return proto.temporal.api.errordetails.v1[type].decode(any.value);
}

const FAIL = 1; // WorkflowIdConflictPolicy
const USE_EXISTING = 2;
const TERMINATE_EXISTING = 3;
const REJECT_DUPLICATE = 3; // WorkflowIdReusePolicy

test('raw USE_EXISTING start with onConflictOptions.attachRequestId: WorkflowExecutionOptionsUpdated, and a retry of it is the same start', { timeout: TEST_TIMEOUT }, async () => {
  // Temporal's handleUseExistingWorkflowOnConflictOptions: the request id is attached to the
  // running run by a WorkflowExecutionOptionsUpdated event (worker_may_ignore); a later start with
  // that request id is deduplicated against the run, even once it closed. The SDK exposes
  // onConflictOptions only internally (Nexus), so raw gRPC.
  const taskQueue = uniqueName('tq-attach');
  const workflowId = uniqueName('wf-attach');
  const svc = suite.connection.workflowService;
  const base = {
    namespace: NS,
    workflowId,
    workflowType: { name: 'waitForSignalWorkflow' },
    taskQueue: { name: taskQueue },
    identity: 'compat-test',
  };
  const firstRequestId = randomUUID();
  const first = await svc.startWorkflowExecution({ ...base, requestId: firstRequestId });
  // A plain duplicate: ALREADY_EXISTS naming the run, its start's request id and its chain's first run.
  const dup = await svc.startWorkflowExecution({ ...base, requestId: randomUUID(), workflowIdConflictPolicy: FAIL })
    .then(() => null, (e) => e);
  assert.ok(dup, 'a second start with FAIL is refused');
  assert.equal(dup.code, 6); // ALREADY_EXISTS
  const started = errorDetail(dup, 'WorkflowExecutionAlreadyStartedFailure');
  assert.equal(started.startRequestId, firstRequestId);
  assert.equal(started.runId, first.runId);
  assert.equal(started.firstExecutionRunId, first.runId);

  const attach = {
    ...base,
    requestId: randomUUID(),
    workflowIdConflictPolicy: USE_EXISTING,
    onConflictOptions: { attachRequestId: true },
  };
  const r1 = await svc.startWorkflowExecution(attach);
  assert.equal(r1.runId, first.runId);
  assert.equal(r1.firstExecutionRunId, first.runId);
  assert.equal(r1.started, false);
  const r2 = await svc.startWorkflowExecution({ ...attach });
  assert.equal(r2.runId, first.runId);
  assert.equal(r2.started, false);
  const handle = suite.client.workflow.getHandle(workflowId, first.runId);
  const updated = eventsOfType(await handle.fetchHistory(), 'WORKFLOW_EXECUTION_OPTIONS_UPDATED');
  assert.equal(updated.length, 1, 'the retry writes nothing');
  assert.equal(updated[0].workflowExecutionOptionsUpdatedEventAttributes.attachedRequestId, attach.requestId);
  assert.equal(updated[0].workerMayIgnore, true);
  // The SDK's worker runs the workflow through the event.
  const result = await withWorker(taskQueue, async () => {
    await handle.signal('continue', 'done');
    return handle.result();
  });
  assert.equal(result, 'done');
  const r3 = await svc.startWorkflowExecution({ ...attach, workflowIdConflictPolicy: FAIL, workflowIdReusePolicy: REJECT_DUPLICATE });
  assert.equal(r3.runId, first.runId, 'still the attached start, not a duplicate');
  assert.equal(r3.started, false);
  assert.equal(r3.status, proto.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);
});

test('history.enableWorkflowIdReuseStartTimeValidation: starts within history.workflowIdReuseMinimalInterval are RESOURCE_EXHAUSTED; the SDK retries them', { timeout: TEST_TIMEOUT }, async () => {
  // Temporal's workflow_id_dedup.go. Off by default (as on Temporal's dev server: the suite's other
  // TERMINATE_EXISTING starts go through at once); this server turns the validation on.
  const server = await startServer({
    ephemeral: true,
    extraArgs: [
      '--dynamic-config-value', 'history.enableWorkflowIdReuseStartTimeValidation=true',
      '--dynamic-config-value', 'history.workflowIdReuseMinimalInterval=1s',
    ],
  });
  const connection = await Connection.connect({ address: server.address });
  const raw = await Connection.connect({ address: server.address, interceptors: [] }); // no retries
  try {
    const client = new Client({ connection, namespace: NS });
    const taskQueue = uniqueName('tq-reuse-interval');
    const workflowId = uniqueName('wf-reuse-interval');
    const request = () => ({
      namespace: NS,
      workflowId,
      workflowType: { name: 'sleepLongWorkflow' },
      taskQueue: { name: taskQueue },
      requestId: randomUUID(),
      workflowIdConflictPolicy: TERMINATE_EXISTING,
    });
    const busy = async (what) => {
      const err = await raw.workflowService.startWorkflowExecution(request()).then(() => null, (e) => e);
      assert.ok(err, `${what}: refused`);
      assert.equal(err.code, 8); // RESOURCE_EXHAUSTED
      assert.match(err.details, new RegExp(`^Too many ${what} for workflow ${workflowId}\\. Time since last start: \\d+ ms$`));
      const f = errorDetail(err, 'ResourceExhaustedFailure');
      assert.equal(f.cause, proto.temporal.api.enums.v1.ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_BUSY_WORKFLOW);
      assert.equal(f.scope, proto.temporal.api.enums.v1.ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
    };
    const t0 = Date.now();
    const first = await client.workflow.start('sleepLongWorkflow', { taskQueue, workflowId });
    await busy('restarts');
    const second = await client.workflow.start('sleepLongWorkflow', {
      taskQueue, workflowId, workflowIdConflictPolicy: 'TERMINATE_EXISTING',
    });
    const t1 = Date.now();
    assert.ok(t1 - t0 > 1000, `the SDK's retry went through after the interval (${t1 - t0} ms)`);
    assert.equal(statusName(await client.workflow.getHandle(workflowId, first.firstExecutionRunId).describe()), 'TERMINATED');
    await second.terminate('closed');
    await busy('starts'); // the closed run started less than 1 s ago
  } finally {
    await raw.close().catch(() => {});
    await connection.close().catch(() => {});
    await server.stop('SIGTERM');
  }
});

test('large (100 KB) payload round-trips through workflow and activity', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-large');
  const value = {
    items: Array.from({ length: 1000 }, (_, i) => ({ i, s: `${'x'.repeat(90)}${i}`, n: i * 1.5 })),
  };
  assert.ok(JSON.stringify(value).length >= 100 * 1024, 'payload is at least 100 KB');
  const [viaWorkflow, viaActivity] = await withWorker(taskQueue, () =>
    Promise.all([
      suite.client.workflow.execute('echoWorkflow', { taskQueue, workflowId: uniqueName('wf-large'), args: [value] }),
      suite.client.workflow.execute('echoViaActivityWorkflow', {
        taskQueue,
        workflowId: uniqueName('wf-large-act'),
        args: [value],
      }),
    ]),
  );
  assert.deepEqual(viaWorkflow, value);
  assert.deepEqual(viaActivity, value);
});

test('workflowExecutionTimeout: result rejects with TimeoutFailure, status TIMED_OUT', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-wftimeout');
  const workflowId = uniqueName('wf-wftimeout');
  const t0 = Date.now();
  const handle = await suite.client.workflow.start('sleepLongWorkflow', {
    taskQueue,
    workflowId,
    workflowExecutionTimeout: '2s',
  });
  await withWorker(taskQueue, () =>
    assert.rejects(handle.result(), (err) => {
      assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${err && err.stack}`);
      assert.ok(err.cause instanceof TimeoutFailure, `expected TimeoutFailure, got ${err.cause}`);
      return true;
    }),
  );
  const elapsed = Date.now() - t0;
  assert.ok(elapsed >= 1900 && elapsed < 10000, `timed out after ${elapsed} ms, expected ~2000`);
  assert.equal(statusName(await handle.describe()), 'TIMED_OUT');
  const names = eventTypeNames(await handle.fetchHistory());
  assert.equal(names[names.length - 1], 'WORKFLOW_EXECUTION_TIMED_OUT', `history: ${names}`);
});

test('workflow throwing ApplicationFailure fails with that message, status FAILED', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-wffail');
  const workflowId = uniqueName('wf-wffail');
  const handle = await suite.client.workflow.start('failingWorkflow', { taskQueue, workflowId, args: ['workflow boom'] });
  await withWorker(taskQueue, () =>
    assert.rejects(handle.result(), (err) => {
      assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${err && err.stack}`);
      assert.ok(err.cause instanceof ApplicationFailure, `expected ApplicationFailure, got ${err.cause}`);
      assert.equal(err.cause.message, 'workflow boom');
      assert.equal(err.cause.type, 'WorkflowBoom');
      return true;
    }),
  );
  assert.equal(statusName(await handle.describe()), 'FAILED');
  const names = eventTypeNames(await handle.fetchHistory());
  assert.equal(names[names.length - 1], 'WORKFLOW_EXECUTION_FAILED', `history: ${names}`);
});

test('signal is delivered to a running workflow', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-signal');
  const workflowId = uniqueName('wf-signal');
  const handle = await suite.client.workflow.start('waitForSignalWorkflow', { taskQueue, workflowId });
  const result = await withWorker(taskQueue, async () => {
    await waitForEvent(handle, 'WORKFLOW_TASK_COMPLETED');
    await handle.signal('continue', { hello: 'signal' });
    return handle.result();
  });
  assert.deepEqual(result, { hello: 'signal' });
  const history = await handle.fetchHistory();
  const signaled = eventsOfType(history, 'WORKFLOW_EXECUTION_SIGNALED');
  assert.equal(signaled.length, 1, `history: ${eventTypeNames(history)}`);
  assert.equal(signaled[0].workflowExecutionSignaledEventAttributes.signalName, 'continue');
});

// Worker restart / sticky-queue fallback. The workflow runs step one, then a 3 s durable timer,
// then step two. Worker 1 is shut down right after it completed the workflow task that started
// the timer, so it holds the execution in its cache and the execution is sticky to worker 1's
// sticky queue. When the timer fires, real Temporal routes the new workflow task to the normal
// queue promptly (the SDK calls ShutdownWorker on shutdown, which unloads the sticky queue, so
// matching answers StickyWorkerUnavailable and history falls back; without that the task would
// wait for the 10 s sticky schedule-to-start timeout). A NEW worker (new sticky queue, empty
// cache) must replay the history and finish the workflow. Worker identities prove which worker
// did what.
test('a new worker finishes a workflow after the first worker shut down (sticky fallback)', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-restart');
  const workflowId = uniqueName('wf-restart');
  const key = workflowId;
  const identity1 = `${workflowId}-worker-1`;
  const identity2 = `${workflowId}-worker-2`;
  const stepOneDone = onStep(key, 'one');
  const handle = await suite.client.workflow.start('twoStepWorkflow', { taskQueue, workflowId, args: [key, 3000] });

  const worker1 = await createWorker(taskQueue, { identity: identity1 });
  liveWorkers.add(worker1);
  const run1 = worker1.run();
  run1.catch(() => {}); // observed below; avoid an unhandled rejection if the worker fails early
  try {
    await withTimeout(stepOneDone, 10000, 'step one');
    // Wait until worker 1 has completed the workflow task carrying the activity result
    // (the timer is started, the workflow is cached on worker 1).
    await waitForEvent(handle, 'TIMER_STARTED');
  } finally {
    worker1.shutdown();
    await withTimeout(run1, 15000, 'worker 1 shutdown');
    liveWorkers.delete(worker1);
  }
  assert.deepEqual(state.steps.get(key), ['one']);
  const afterShutdown = eventTypeNames(await handle.fetchHistory());
  assert.ok(
    !afterShutdown.includes('TIMER_FIRED'),
    `worker 1 shutdown took longer than the 3 s timer, test inconclusive: ${afterShutdown}`,
  );

  const t0 = Date.now();
  const result = await withWorker(taskQueue, () => handle.result(), { identity: identity2 });
  const elapsed = Date.now() - t0;
  assert.deepEqual(result, ['one-done', 'two-done']);
  assert.deepEqual(state.steps.get(key), ['one', 'two'], 'step one must not be re-executed');
  // <= 3 s of remaining timer + prompt fallback; a 10 s sticky timeout would exceed this.
  assert.ok(elapsed < 8000, `new worker needed ${elapsed} ms to finish the workflow (sticky fallback too slow)`);

  const history = await handle.fetchHistory();
  const events = history.events;
  const names = eventTypeNames(history);
  const firedIdx = names.indexOf('TIMER_FIRED');
  const wftStartedAfterTimer = events.slice(firedIdx).filter((_, i) => names[firedIdx + i] === 'WORKFLOW_TASK_STARTED');
  assert.ok(wftStartedAfterTimer.length >= 1, `history: ${names}`);
  assert.equal(wftStartedAfterTimer[0].workflowTaskStartedEventAttributes.identity, identity2);
  const actStarted = eventsOfType(history, 'ACTIVITY_TASK_STARTED');
  assert.deepEqual(
    actStarted.map((e) => e.activityTaskStartedEventAttributes.identity),
    [identity1, identity2],
  );
});
