'use strict';
// Bad-input suite: malformed / invalid WorkflowService requests sent as raw gRPC through the
// official client's `connection.workflowService` (camelCase methods; they reject with an error
// whose `.code` is the gRPC status code). Expected codes are those of a real Temporal server
// (references to temporalio/temporal sources in comments), then a check that no rejected request
// changed state.
//
// Run: node --test tests/badinput/badinput.test.js

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');

const { Connection } = require('@temporalio/client');
const { temporal } = require('@temporalio/proto');

const { startServer, eventTypeNames, uniqueName } = require('../compat/harness');

const NS = 'default';
const IDENTITY = 'badinput-test';
const { CommandType, TaskQueueKind } = temporal.api.enums.v1;

const Code = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, PERMISSION_DENIED: 7 };

let server;
let connection;
const svc = () => connection.workflowService;

before(
  async () => {
    server = await startServer();
    connection = await Connection.connect({ address: server.address });
  },
  { timeout: 30000 },
);

after(
  async () => {
    if (connection) await connection.close().catch(() => {});
    if (server) await server.stop('SIGTERM');
  },
  { timeout: 30000 },
);

function jsonPayload(value) {
  return {
    metadata: { encoding: Buffer.from('json/plain') },
    data: Buffer.from(JSON.stringify(value)),
  };
}

function startRequest(overrides = {}) {
  return {
    namespace: NS,
    workflowId: uniqueName('bad-wf'),
    workflowType: { name: 'badInputWorkflow' },
    taskQueue: { name: uniqueName('bad-tq'), kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    requestId: randomUUID(),
    identity: IDENTITY,
    ...overrides,
  };
}

/** Awaits `promise`, expecting a gRPC error with status `codes` (a number or list of numbers). */
async function expectGrpcError(promise, codes, what) {
  const allowed = [].concat(codes);
  let result;
  try {
    result = await promise;
  } catch (err) {
    assert.ok(
      allowed.includes(err.code),
      `${what}: expected gRPC code ${allowed.join(' or ')}, got ${err.code} (${err.details ?? err.message})`,
    );
    return err;
  }
  assert.fail(`${what}: expected gRPC code ${allowed.join(' or ')}, but the call succeeded: ${JSON.stringify(result)}`);
}

/** Bounded long poll (real Temporal holds an empty poll up to ~60 s). */
function withDeadline(ms, fn) {
  return connection.withDeadline(Date.now() + ms, fn);
}

/** Starts a workflow on a fresh task queue and polls its first workflow task (raw gRPC). */
async function startAndPollWorkflowTask() {
  const taskQueue = uniqueName('bad-raw-tq');
  const workflowId = uniqueName('bad-raw-wf');
  const { runId } = await svc().startWorkflowExecution(
    startRequest({ workflowId, taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL } }),
  );
  const task = await withDeadline(15000, () =>
    svc().pollWorkflowTaskQueue({
      namespace: NS,
      taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      identity: IDENTITY,
    }),
  );
  assert.ok(task.taskToken && task.taskToken.length > 0, 'workflow task token');
  assert.equal(task.workflowExecution.workflowId, workflowId);
  return { taskQueue, workflowId, runId, task };
}

async function historyOf(workflowId, runId) {
  const res = await svc().getWorkflowExecutionHistory({ namespace: NS, execution: { workflowId, runId } });
  return res.history;
}

async function terminate(workflowId) {
  await svc()
    .terminateWorkflowExecution({ namespace: NS, workflowExecution: { workflowId }, reason: 'badinput cleanup', identity: IDENTITY })
    .catch(() => {});
}

/**
 * Workflow ids of rejected starts, checked at the end: they must not exist.
 * `codes`: what DescribeWorkflowExecution may answer (NOT_FOUND for real Temporal).
 */
const mustNotExist = [];

const rows = [
  {
    name: 'StartWorkflowExecution with empty workflowId -> INVALID_ARGUMENT',
    code: Code.INVALID_ARGUMENT, // frontend errWorkflowIDNotSet
    run: () => svc().startWorkflowExecution(startRequest({ workflowId: '' })),
  },
  {
    name: 'StartWorkflowExecution with a 1001-char workflowId -> INVALID_ARGUMENT',
    code: Code.INVALID_ARGUMENT, // frontend errWorkflowIDTooLong (limit.maxIDLength default 1000)
    run: () => {
      const workflowId = 'w'.repeat(1001);
      // Real Temporal's DescribeWorkflowExecution does not check the id length (validateExecution
      // only checks it is set), so it answers NOT_FOUND; INVALID_ARGUMENT also proves absence.
      mustNotExist.push({ workflowId, codes: [Code.NOT_FOUND, Code.INVALID_ARGUMENT] });
      return svc().startWorkflowExecution(startRequest({ workflowId }));
    },
  },
  {
    name: 'StartWorkflowExecution in an unknown namespace -> NOT_FOUND',
    code: Code.NOT_FOUND, // serviceerror.NamespaceNotFound maps to codes.NotFound
    run: () => {
      const workflowId = uniqueName('bad-ns-wf');
      mustNotExist.push({ workflowId, codes: [Code.NOT_FOUND] }); // nor in `default`
      return svc().startWorkflowExecution(startRequest({ workflowId, namespace: `no-such-namespace-${randomUUID()}` }));
    },
  },
  {
    name: 'StartWorkflowExecution with empty workflow type -> INVALID_ARGUMENT',
    code: Code.INVALID_ARGUMENT, // errWorkflowTypeNotSet
    run: () => {
      const workflowId = uniqueName('bad-type-wf');
      mustNotExist.push({ workflowId, codes: [Code.NOT_FOUND] });
      return svc().startWorkflowExecution(startRequest({ workflowId, workflowType: { name: '' } }));
    },
  },
  {
    name: 'StartWorkflowExecution with empty task queue -> INVALID_ARGUMENT',
    code: Code.INVALID_ARGUMENT, // errTaskQueueNotSet (tqid validation)
    run: () => {
      const workflowId = uniqueName('bad-tq-wf');
      mustNotExist.push({ workflowId, codes: [Code.NOT_FOUND] });
      return svc().startWorkflowExecution(startRequest({ workflowId, taskQueue: { name: '' } }));
    },
  },
  {
    name: 'StartWorkflowExecution with input over 2 MB -> INVALID_ARGUMENT',
    // common.ErrBlobSizeExceedsLimit ("Blob data size exceeds limit.", limit.blobSize.error default 2 MiB)
    code: Code.INVALID_ARGUMENT,
    run: () => {
      const workflowId = uniqueName('bad-big-wf');
      mustNotExist.push({ workflowId, codes: [Code.NOT_FOUND] });
      const big = {
        metadata: { encoding: Buffer.from('binary/plain') },
        data: Buffer.alloc(2 * 1024 * 1024 + 64 * 1024, 0x61),
      };
      return svc().startWorkflowExecution(startRequest({ workflowId, input: { payloads: [big] } }));
    },
  },
  {
    name: 'RespondActivityTaskCompleted with a malformed task token -> INVALID_ARGUMENT',
    code: Code.INVALID_ARGUMENT, // frontend errDeserializingToken
    run: () =>
      svc().respondActivityTaskCompleted({
        namespace: NS,
        taskToken: Buffer.from('definitely-not-a-task-token'),
        identity: IDENTITY,
        result: { payloads: [jsonPayload('x')] },
      }),
  },
  {
    name: 'RespondActivityTaskCompleted twice with the same token -> second is NOT_FOUND',
    code: Code.NOT_FOUND, // history consts.ErrActivityTaskNotFound
    // Multi-step row: `check` performs its own expectGrpcError on the call under test.
    check: async () => {
      const { taskQueue, workflowId, runId, task } = await startAndPollWorkflowTask();
      try {
        await svc().respondWorkflowTaskCompleted({
          namespace: NS,
          taskToken: task.taskToken,
          identity: IDENTITY,
          commands: [
            {
              commandType: CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
              scheduleActivityTaskCommandAttributes: {
                activityId: '1',
                activityType: { name: 'rawActivity' },
                taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
                scheduleToCloseTimeout: { seconds: 60 },
                startToCloseTimeout: { seconds: 30 },
              },
            },
          ],
        });
        const activityTask = await withDeadline(15000, () =>
          svc().pollActivityTaskQueue({
            namespace: NS,
            taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
            identity: IDENTITY,
          }),
        );
        assert.ok(activityTask.taskToken && activityTask.taskToken.length > 0, 'activity task token');
        assert.equal(activityTask.activityId, '1');
        const complete = () =>
          svc().respondActivityTaskCompleted({
            namespace: NS,
            taskToken: activityTask.taskToken,
            identity: IDENTITY,
            result: { payloads: [jsonPayload('done')] },
          });
        await complete(); // first completion is accepted
        await expectGrpcError(complete(), Code.NOT_FOUND, 'second completion with the same token');
        const names = eventTypeNames(await historyOf(workflowId, runId));
        assert.equal(
          names.filter((n) => n === 'ACTIVITY_TASK_COMPLETED').length,
          1,
          `exactly one completion recorded, history: ${names}`,
        );
      } finally {
        await terminate(workflowId);
      }
    },
  },
  {
    name: 'RespondWorkflowTaskCompleted with an unknown command type -> INVALID_ARGUMENT',
    // workflow_task_completed_handler.go: "Unknown command type" -> InvalidArgument
    code: Code.INVALID_ARGUMENT,
    check: async () => {
      const { workflowId, runId, task } = await startAndPollWorkflowTask();
      try {
        await expectGrpcError(
          svc().respondWorkflowTaskCompleted({
            namespace: NS,
            taskToken: task.taskToken,
            identity: IDENTITY,
            commands: [{ commandType: 9999 }],
          }),
          Code.INVALID_ARGUMENT,
          'unknown command type 9999',
        );
        // The rejected completion must not have been applied.
        const names = eventTypeNames(await historyOf(workflowId, runId));
        assert.ok(!names.includes('WORKFLOW_TASK_COMPLETED'), `no WorkflowTaskCompleted recorded, history: ${names}`);
      } finally {
        await terminate(workflowId);
      }
    },
  },
  {
    name: 'SignalWorkflowExecution to an unknown workflow -> NOT_FOUND',
    code: Code.NOT_FOUND,
    run: () =>
      svc().signalWorkflowExecution({
        namespace: NS,
        workflowExecution: { workflowId: uniqueName('no-such-wf') },
        signalName: 'nobody-listens',
        identity: IDENTITY,
        requestId: randomUUID(),
      }),
  },
  {
    name: 'DescribeWorkflowExecution of an unknown workflow -> NOT_FOUND',
    code: Code.NOT_FOUND,
    run: () =>
      svc().describeWorkflowExecution({ namespace: NS, execution: { workflowId: uniqueName('no-such-wf') } }),
  },
  {
    name: 'TerminateWorkflowExecution of an unknown workflow -> NOT_FOUND',
    code: Code.NOT_FOUND,
    run: () =>
      svc().terminateWorkflowExecution({
        namespace: NS,
        workflowExecution: { workflowId: uniqueName('no-such-wf') },
        reason: 'nothing to terminate',
        identity: IDENTITY,
      }),
  },
  // service/frontend/workflow_handler.go ResetWorkflowExecution; history api/resetworkflow.
  {
    name: 'ResetWorkflowExecution without a request id -> INVALID_ARGUMENT',
    code: Code.INVALID_ARGUMENT,
    run: () =>
      svc().resetWorkflowExecution({
        namespace: NS,
        workflowExecution: { workflowId: uniqueName('no-such-wf') },
        workflowTaskFinishEventId: 4,
      }),
  },
  {
    name: 'ResetWorkflowExecution without a workflow id -> INVALID_ARGUMENT',
    code: Code.INVALID_ARGUMENT,
    run: () =>
      svc().resetWorkflowExecution({
        namespace: NS,
        workflowExecution: { workflowId: '' },
        workflowTaskFinishEventId: 4,
        requestId: randomUUID(),
      }),
  },
  {
    name: 'ResetWorkflowExecution of an unknown workflow -> NOT_FOUND',
    code: Code.NOT_FOUND,
    run: () =>
      svc().resetWorkflowExecution({
        namespace: NS,
        workflowExecution: { workflowId: uniqueName('no-such-wf') },
        workflowTaskFinishEventId: 4,
        requestId: randomUUID(),
      }),
  },
  {
    name: 'ResetWorkflowExecution to an event id past the history -> INVALID_ARGUMENT, nothing reset',
    check: async () => {
      const workflowId = uniqueName('bad-reset');
      const started = await svc().startWorkflowExecution(startRequest({ workflowId }));
      await expectGrpcError(
        svc().resetWorkflowExecution({
          namespace: NS,
          workflowExecution: { workflowId, runId: started.runId },
          workflowTaskFinishEventId: 3,
          requestId: randomUUID(),
        }),
        Code.INVALID_ARGUMENT,
        'reset past the history',
      );
      const desc = await svc().describeWorkflowExecution({ namespace: NS, execution: { workflowId } });
      assert.equal(desc.workflowExecutionInfo.execution.runId, started.runId, 'still the same current run');
      await svc().terminateWorkflowExecution({ namespace: NS, workflowExecution: { workflowId }, identity: IDENTITY });
    },
  },
];

for (const row of rows) {
  test(row.name, { timeout: 30000 }, async () => {
    if (row.check) await row.check();
    else await expectGrpcError(Promise.resolve().then(row.run), row.code, row.name);
  });
}

// service/frontend/validators.go validateExecution: a run id that is set must be a UUID
// (errInvalidRunID "Invalid RunId."), checked before the namespace is looked up, except by
// DescribeWorkflowExecution (namespace first). Go's uuid.Validate also takes the braced form.
test('a run id that is not a UUID -> INVALID_ARGUMENT "Invalid RunId.", nothing changed', { timeout: 30000 }, async () => {
  const workflowId = uniqueName('bad-run-id');
  const started = await svc().startWorkflowExecution(startRequest({ workflowId }));
  const bad = { workflowId, runId: 'not-a-uuid' };
  const calls = {
    describe: () => svc().describeWorkflowExecution({ namespace: NS, execution: bad }),
    history: () => svc().getWorkflowExecutionHistory({ namespace: NS, execution: bad }),
    historyReverse: () => svc().getWorkflowExecutionHistoryReverse({ namespace: NS, execution: bad }),
    signal: () =>
      svc().signalWorkflowExecution({ namespace: NS, workflowExecution: bad, signalName: 's', requestId: randomUUID() }),
    cancel: () => svc().requestCancelWorkflowExecution({ namespace: NS, workflowExecution: bad, requestId: randomUUID() }),
    terminate: () => svc().terminateWorkflowExecution({ namespace: NS, workflowExecution: bad, reason: 'r' }),
    delete: () => svc().deleteWorkflowExecution({ namespace: NS, workflowExecution: bad }),
    reset: () =>
      svc().resetWorkflowExecution({
        namespace: NS,
        workflowExecution: bad,
        workflowTaskFinishEventId: 3,
        requestId: randomUUID(),
      }),
    resetSticky: () => svc().resetStickyTaskQueue({ namespace: NS, execution: bad }),
    query: () => svc().queryWorkflow({ namespace: NS, execution: bad, query: { queryType: 'q' } }),
    update: () =>
      svc().updateWorkflowExecution({
        namespace: NS,
        workflowExecution: bad,
        request: { meta: { updateId: 'u' }, input: { name: 'u' } },
      }),
  };
  for (const [what, call] of Object.entries(calls)) {
    const err = await expectGrpcError(call(), Code.INVALID_ARGUMENT, what);
    assert.equal(err.details, 'Invalid RunId.', what);
  }
  // Checked before the namespace (Describe: after it).
  const elsewhere = uniqueName('no-such-ns');
  const err = await expectGrpcError(
    svc().signalWorkflowExecution({ namespace: elsewhere, workflowExecution: bad, signalName: 's' }),
    Code.INVALID_ARGUMENT,
    'signal in an unknown namespace',
  );
  assert.equal(err.details, 'Invalid RunId.');
  await expectGrpcError(
    svc().describeWorkflowExecution({ namespace: elsewhere, execution: bad }),
    Code.NOT_FOUND,
    'describe in an unknown namespace',
  );
  // A braced UUID passes the check (and names no run here); the canonical form is the run.
  await expectGrpcError(
    svc().describeWorkflowExecution({ namespace: NS, execution: { workflowId, runId: `{${started.runId}}` } }),
    Code.NOT_FOUND,
    'braced run id',
  );
  const history = await historyOf(workflowId, started.runId);
  assert.deepEqual(eventTypeNames(history), ['WORKFLOW_EXECUTION_STARTED', 'WORKFLOW_TASK_SCHEDULED']);
  await terminate(workflowId);
});

// Temporal's frontend checks of an update (prepareUpdateWorkflowRequest): its meta, input and name
// (INVALID_ARGUMENT), and no wait for ADMITTED (PERMISSION_DENIED: an answer then would come before
// the update, or an Update-with-Start's new run, is durable). Nothing is admitted or started.
test('an update without meta, input or name, or waiting for ADMITTED -> Temporal\'s errors, nothing changed', { timeout: 30000 }, async () => {
  const workflowId = uniqueName('bad-update');
  const started = await svc().startWorkflowExecution(startRequest({ workflowId }));
  const ADMITTED = temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED;
  const update = (request, waitPolicy) => ({ namespace: NS, workflowExecution: { workflowId }, request, waitPolicy });
  const cases = [
    ['no meta', update({ input: { name: 'u' } }), Code.INVALID_ARGUMENT, 'Update meta is not set on request.'],
    ['no input', update({ meta: { updateId: 'u' } }), Code.INVALID_ARGUMENT, 'Update input is not set on request.'],
    ['no name', update({ meta: { updateId: 'u' }, input: {} }), Code.INVALID_ARGUMENT, 'Update name is not set on request.'],
    [
      'ADMITTED',
      update({ meta: { updateId: 'u' }, input: { name: 'u' } }, { lifecycleStage: ADMITTED }),
      Code.PERMISSION_DENIED,
      'UpdateWorkflowExecution issued asynchronously and waiting on update admitted is not supported.',
    ],
  ];
  for (const [what, req, code, message] of cases) {
    const err = await expectGrpcError(svc().updateWorkflowExecution(req), code, what);
    assert.equal(err.details, message, what);
  }
  // Update-with-Start waiting for ADMITTED: the failed operation's code, and no run.
  const uwsId = uniqueName('bad-uws');
  const err = await expectGrpcError(
    svc().executeMultiOperation({
      namespace: NS,
      operations: [
        { startWorkflow: startRequest({ workflowId: uwsId }) },
        {
          updateWorkflow: {
            namespace: NS,
            workflowExecution: { workflowId: uwsId },
            request: { meta: { updateId: 'u' }, input: { name: 'u' } },
            waitPolicy: { lifecycleStage: ADMITTED },
          },
        },
      ],
    }),
    Code.PERMISSION_DENIED,
    'update-with-start waiting for ADMITTED',
  );
  assert.equal(err.details, 'Update-with-Start could not be executed.');
  mustNotExist.push({ workflowId: uwsId, codes: Code.NOT_FOUND });
  const history = await historyOf(workflowId, started.runId);
  assert.deepEqual(eventTypeNames(history), ['WORKFLOW_EXECUTION_STARTED', 'WORKFLOW_TASK_SCHEDULED']);
  await terminate(workflowId);
});

test('state unchanged: rejected workflow ids do not exist', { timeout: 30000 }, async () => {
  assert.ok(mustNotExist.length >= 5, `ids collected from the table: ${mustNotExist.length}`);
  for (const { workflowId, codes } of mustNotExist) {
    await expectGrpcError(
      svc().describeWorkflowExecution({ namespace: NS, execution: { workflowId } }),
      codes,
      `describe ${workflowId.slice(0, 40)}${workflowId.length > 40 ? '…' : ''}`,
    );
  }
});
