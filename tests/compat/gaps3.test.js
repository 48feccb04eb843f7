'use strict';
// Compatibility suite, third part: command validation (priorities on activities and children),
// the update payload limit, schedule search attributes in visibility, workflow/query task tokens
// in Temporal's layout and worker-versioning fields — each compared with Temporal's server, through
// the official Temporal TypeScript SDK (1.24.0) and its raw gRPC service where the SDK hides a field.

const assert = require('node:assert/strict');

const { WorkflowTaskFailedCause } = require('@temporalio/proto').temporal.api.enums.v1;
const { pollUntil, uniqueName, eventsOfType, expectGrpcError } = require('./harness');
const { TEST_TIMEOUT, NS, setupSuite, resultWithin, test } = require('./suite');

const activities = {
  async echo(s) {
    return s;
  },
};

// In-flight update payload limit of this file's server (Temporal's default: 20 MiB).
const MAX_UPDATE_BYTES = 3000;

const suite = setupSuite({
  activities,
  serverOptions: {
    extraArgs: [
      '--dynamic-config-value', `history.maxInFlightUpdatePayloads=${MAX_UPDATE_BYTES}`,
      '--search-attribute', 'Gaps3Team=Keyword', '--search-attribute', 'Gaps3Size=Int',
    ],
  },
});
const { withWorker } = suite;

/** The first WorkflowTaskFailed event's {cause, message} of `workflowId`, waited for (the message
 * starts with the cause's name, as Temporal's server writes it). */
async function firstTaskFailure(workflowId) {
  return pollUntil(async () => {
    const history = await suite.client.workflow.getHandle(workflowId).fetchHistory();
    const ev = eventsOfType(history, 'WORKFLOW_TASK_FAILED')[0];
    if (!ev) return null;
    const a = ev.workflowTaskFailedEventAttributes;
    return { cause: WorkflowTaskFailedCause[a.cause], message: a.failure && a.failure.message };
  }, { timeoutMs: 20000, what: `a failed workflow task of ${workflowId}` });
}

test('a bad priority on ScheduleActivityTask or StartChildWorkflowExecution fails the workflow task (Temporal causes and messages)', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('gaps3-prio');
  const activityWf = uniqueName('gaps3-prio-act');
  const childWf = uniqueName('gaps3-prio-child');
  await withWorker(taskQueue, async () => {
    await suite.client.workflow.start('badActivityPriorityWorkflow', { taskQueue, workflowId: activityWf });
    await suite.client.workflow.start('badChildPriorityWorkflow', { taskQueue, workflowId: childWf, args: [`${childWf}-c`] });
    assert.deepEqual(await firstTaskFailure(activityWf), {
      cause: 'WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES',
      message: 'BadScheduleActivityAttributes: Invalid Priorities: fairness key length exceeds limit. ActivityId=1 ActivityType=echo',
    });
    assert.deepEqual(await firstTaskFailure(childWf), {
      cause: 'WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES',
      message: 'BadStartChildExecutionAttributes: must be greater than zero',
    });
    // Nothing was scheduled or initiated, and the workflows stay open (a workflow task failure).
    for (const id of [activityWf, childWf]) {
      const history = await suite.client.workflow.getHandle(id).fetchHistory();
      assert.equal(eventsOfType(history, 'ACTIVITY_TASK_SCHEDULED').length, 0);
      assert.equal(eventsOfType(history, 'START_CHILD_WORKFLOW_EXECUTION_INITIATED').length, 0);
      assert.equal((await suite.client.workflow.getHandle(id).describe()).status.name, 'RUNNING');
    }
  });
  await suite.terminateQuietly(activityWf, childWf);
});

test('in-flight update payloads past history.maxInFlightUpdatePayloads are RESOURCE_EXHAUSTED (Temporal message)', { timeout: TEST_TIMEOUT }, async () => {
  const { WorkflowUpdateStage, Connection } = require('@temporalio/client');
  const taskQueue = uniqueName('gaps3-upd-size');
  const workflowId = uniqueName('gaps3-upd-size-wf');
  const big = (c) => c.repeat(1000);
  await withWorker(taskQueue, async () => {
    const handle = await suite.client.workflow.start('updateLimitWorkflow', { taskQueue, workflowId });
    // Two accepted, blocked updates of ~1 KB each stay in flight (2 of the 10 allowed by count).
    const blocked = [];
    for (const c of ['a', 'b']) {
      blocked.push(await handle.startUpdate('block', { args: [big(c)], updateId: `block-${c}`, waitForStage: WorkflowUpdateStage.ACCEPTED }));
    }
    // The SDK retries RESOURCE_EXHAUSTED; a connection without the retry interceptor shows the answer.
    const raw = await Connection.connect({ address: suite.server.address, interceptors: [] });
    const send = (updateId, arg) => raw.workflowService.updateWorkflowExecution({
      namespace: NS,
      workflowExecution: { workflowId },
      request: {
        meta: { updateId },
        input: { name: 'block', args: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(arg)) }] } },
      },
      waitPolicy: { lifecycleStage: 2 },
    });
    try {
      // A third ~1 KB request would take the in-flight bytes past 3000: refused.
      await expectGrpcError(send('block-c', big('c')), 8,
        new RegExp(`limit on total payload size of in-flight updates has been reached \\(${MAX_UPDATE_BYTES} bytes\\)`));
      // A small one still fits: the limit is on bytes, not on the count.
      const small = await send('block-small', 'x');
      assert.equal(small.stage, 2);
    } finally {
      await raw.close();
    }
    await handle.signal('release');
    assert.deepEqual(await Promise.all(blocked.map((u) => u.result())), [big('a'), big('b')]);
    // Completed updates leave the in-flight bytes: a ~1 KB update is admitted again.
    assert.equal(await handle.executeUpdate('quick', { args: [21], updateId: 'quick-after' }), 42);
    assert.equal(await handle.executeUpdate('block', { args: [big('d')], updateId: 'block-d' }), big('d'));
    await handle.signal('done');
    assert.equal(await resultWithin(handle, 15000), 'done');
  });
});

// Temporal's token.v1.Task (workflow task fields) and token.v1.QueryTask, read and written by hand.
const TASK_FIELDS = { 1: 'namespaceId', 2: 'workflowId', 3: 'runId', 4: 'scheduledEventId', 5: 'attempt', 6: 'activityId', 10: 'startedEventId' };
const QUERY_FIELDS = { 1: 'namespaceId', 2: 'taskQueue', 3: 'taskId' };
function decodeToken(bytes, fields) {
  const { Reader } = require('protobufjs/minimal');
  const r = Reader.create(bytes);
  const out = {};
  while (r.pos < r.len) {
    const tag = r.uint32();
    const name = fields[tag >>> 3];
    if (!name) throw new Error(`unexpected token field ${tag >>> 3}`);
    if ((tag & 7) === 2) out[name] = r.string();
    else if ((tag & 7) === 0) out[name] = Number(r.int64());
    else r.skipType(tag & 7);
  }
  return out;
}
function encodeWorkflowTaskToken(t) {
  const { Writer } = require('protobufjs/minimal');
  const w = Writer.create();
  w.uint32((1 << 3) | 2).string(t.namespaceId);
  w.uint32((2 << 3) | 2).string(t.workflowId);
  w.uint32((3 << 3) | 2).string(t.runId);
  w.uint32((4 << 3) | 0).int64(t.scheduledEventId);
  w.uint32((5 << 3) | 0).int32(t.attempt);
  w.uint32((10 << 3) | 0).int64(t.startedEventId);
  return w.finish();
}
function encodeQueryTaskToken(t) {
  const { Writer } = require('protobufjs/minimal');
  const w = Writer.create();
  w.uint32((1 << 3) | 2).string(t.namespaceId);
  w.uint32((2 << 3) | 2).string(t.taskQueue);
  w.uint32((3 << 3) | 2).string(t.taskId);
  return w.finish();
}
/** The token format of earlier temporalite versions: 0x01, then its own TaskToken message. */
function encodeLegacyWorkflowTaskToken(t) {
  const { Writer } = require('protobufjs/minimal');
  const w = Writer.create();
  w.uint32((1 << 3) | 0).int32(1); // WORKFLOW_TASK
  w.uint32((2 << 3) | 2).string(t.namespaceId);
  w.uint32((3 << 3) | 2).string(t.workflowId);
  w.uint32((4 << 3) | 2).string(t.runId);
  w.uint32((5 << 3) | 0).int64(t.scheduledEventId);
  w.uint32((6 << 3) | 0).int64(t.startedEventId);
  w.uint32((7 << 3) | 0).int32(t.attempt);
  return Buffer.concat([Buffer.from([1]), Buffer.from(w.finish())]);
}

test("workflow and query task tokens use Temporal's token layouts; tokens of earlier versions still resolve", { timeout: TEST_TIMEOUT }, async () => {
  const svc = suite.client.workflowService;
  const taskQueue = uniqueName('gaps3-token');
  const workflowId = uniqueName('gaps3-token-wf');
  const handle = await suite.client.workflow.start('tokenWorkflowNoWorker', { taskQueue, workflowId });
  const { runId } = await handle.describe();
  const namespaceId = (await svc.describeNamespace({ namespace: NS })).namespaceInfo.id;
  const poll = () => svc.pollWorkflowTaskQueue({ namespace: NS, taskQueue: { name: taskQueue }, identity: 'gaps3-raw' });

  // A workflow task token is Temporal's Task message without activity fields.
  const first = await poll();
  const wt = decodeToken(first.taskToken, TASK_FIELDS);
  assert.deepEqual(wt, { namespaceId, workflowId, runId, scheduledEventId: 2, attempt: 1, startedEventId: 3 });
  // The same fields encoded the way Temporal's server encodes them complete the task.
  await svc.respondWorkflowTaskCompleted({ namespace: NS, taskToken: encodeWorkflowTaskToken(wt), identity: 'gaps3-raw', commands: [] });

  // A legacy query task token is Temporal's QueryTask message (namespace id, task queue, task id).
  const pending = poll();
  const answer = handle.query('state');
  const qtask = await pending;
  assert.equal(qtask.query.queryType, 'state');
  const qt = decodeToken(qtask.taskToken, QUERY_FIELDS);
  assert.equal(qt.namespaceId, namespaceId);
  assert.equal(qt.taskQueue, taskQueue);
  assert.ok(qt.taskId.length > 0);
  await svc.respondQueryTaskCompleted({
    namespace: NS,
    taskToken: encodeQueryTaskToken(qt),
    completedType: 1, // QUERY_RESULT_TYPE_ANSWERED
    queryResult: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"answered"') }] },
  });
  assert.equal(await answer, 'answered');
  // A query token for a query no longer pending is NOT_FOUND.
  await expectGrpcError(svc.respondQueryTaskCompleted({ namespace: NS, taskToken: encodeQueryTaskToken(qt), completedType: 1 }), 5);

  // A token in the earlier format (held by a worker across an upgrade) still completes its task.
  await handle.signal('go');
  const second = await poll();
  const wt2 = decodeToken(second.taskToken, TASK_FIELDS);
  await svc.respondWorkflowTaskCompleted({
    namespace: NS,
    taskToken: encodeLegacyWorkflowTaskToken(wt2),
    identity: 'gaps3-raw',
    commands: [{ commandType: 2, completeWorkflowExecutionCommandAttributes: {} }], // COMPLETE_WORKFLOW_EXECUTION
  });
  assert.equal((await handle.describe()).status.name, 'COMPLETED');
  // Garbage stays INVALID_ARGUMENT.
  await expectGrpcError(svc.respondWorkflowTaskCompleted({ namespace: NS, taskToken: Buffer.from('garbage') }), 3);
});

test("ListSchedules evaluates Temporal's list filter language over the schedules' own search attributes", { timeout: TEST_TIMEOUT }, async () => {
  const prefix = uniqueName('gaps3-sched');
  const make = (id, searchAttributes, paused) => suite.client.schedule.create({
    scheduleId: `${prefix}-${id}`,
    spec: { intervals: [{ every: '1 day' }] },
    action: { type: 'startWorkflow', workflowType: 'noWorkerHere', taskQueue: 'nobody' },
    ...(searchAttributes ? { searchAttributes } : {}),
    ...(paused ? { state: { paused: true } } : {}),
  });
  const handles = [
    await make('a', { Gaps3Team: ['team-a'], Gaps3Size: [5] }),
    await make('b', { Gaps3Team: ['team-b'], Gaps3Size: [10] }, true),
    await make('c'),
  ];
  const list = async (query) => {
    const ids = [];
    for await (const s of suite.client.schedule.list({ query: `ScheduleId STARTS_WITH '${prefix}-' AND (${query})` })) ids.push(s.scheduleId.slice(prefix.length + 1));
    return ids.sort();
  };
  try {
    assert.deepEqual(await list("Gaps3Team = 'team-a'"), ['a']);
    assert.deepEqual(await list('Gaps3Size >= 5 AND TemporalSchedulePaused = true'), ['b']);
    assert.deepEqual(await list('Gaps3Size < 7 OR Gaps3Team IS NULL'), ['a', 'c']);
    assert.deepEqual(await list("Gaps3Team IN ('team-a', 'team-b') AND SchedulePaused = false"), ['a']);
    assert.deepEqual(await list('TemporalSchedulePaused = false'), ['a', 'c']);
    assert.deepEqual(await list(`ScheduleId = '${prefix}-c'`), ['c']);
    // As in Temporal: other system or predefined attributes are refused, unknown ones too.
    const refused = async (query, pattern) => expectGrpcError(
      suite.client.workflowService.listSchedules({ namespace: NS, query }), 3, pattern);
    await refused("ExecutionStatus = 'Running'", /invalid query filter for schedules: cannot filter on "ExecutionStatus"/);
    await refused("WorkflowType = 'noWorkerHere'", /invalid query filter for schedules: cannot filter on "WorkflowType"/);
    await refused('Gaps3Nope = 1', /invalid query/);
    // Pausing is reflected at once.
    await handles[0].pause('for the test');
    assert.deepEqual(await list('TemporalSchedulePaused = true'), ['a', 'b']);
  } finally {
    for (const h of handles) await h.delete().catch(() => {});
  }
});

test("ListSchedules lists in visibility's default order as Temporal (newest schedule first) and its pages stay consistent", { timeout: TEST_TIMEOUT }, async () => {
  // Temporal lists schedules with ListWorkflowExecutions over its scheduler workflows, in SQL
  // visibility's default order (close time, start time, run id, descending): open rows, the
  // newest created first — not by schedule id. Ids are chosen so that the two orders differ.
  const team = uniqueName('gaps3-order');
  const prefix = uniqueName('gaps3-ord');
  const created = [];
  const make = (id) => suite.client.schedule.create({
    scheduleId: `${prefix}-${id}`,
    spec: { intervals: [{ every: '1 day' }] },
    action: { type: 'startWorkflow', workflowType: 'noWorkerHere', taskQueue: 'nobody' },
    searchAttributes: { Gaps3Team: [team] },
  }).then((h) => { created.push(h); return h; });
  const short = (id) => id.slice(prefix.length + 1);
  try {
    for (const id of ['z', 'a', 'm', 'b']) await make(id);
    const newestFirst = ['b', 'm', 'a', 'z'];
    const query = `Gaps3Team = '${team}'`;
    // The SDK's iterator, filtered, and with pages of one.
    const sdkList = async (opts) => {
      const ids = [];
      for await (const s of suite.client.schedule.list(opts)) ids.push(s.scheduleId);
      return ids;
    };
    assert.deepEqual((await sdkList({ query })).map(short), newestFirst);
    assert.deepEqual((await sdkList({ query, pageSize: 1 })).map(short), newestFirst);
    // Unfiltered: this test's schedules come in the same relative order (none newer exist).
    const all = (await sdkList({})).filter((id) => id.startsWith(`${prefix}-`)).map(short);
    assert.deepEqual(all, newestFirst);

    // Raw gRPC paging, pages of 2: a schedule created after the first page is newer than the
    // page's position (Temporal's keyset tokens do not return it later either), a schedule
    // deleted before its page is not returned, and nothing is repeated or skipped.
    const svc = suite.client.workflowService;
    const page1 = await svc.listSchedules({ namespace: NS, query, maximumPageSize: 2 });
    assert.deepEqual(page1.schedules.map((s) => short(s.scheduleId)), ['b', 'm']);
    assert.ok(page1.nextPageToken && page1.nextPageToken.length > 0, 'a next page token');
    await make('c');
    await created.find((h) => h.scheduleId === `${prefix}-z`).delete();
    const page2 = await svc.listSchedules({ namespace: NS, query, maximumPageSize: 2, nextPageToken: page1.nextPageToken });
    assert.deepEqual(page2.schedules.map((s) => short(s.scheduleId)), ['a']);
    assert.equal(page2.nextPageToken?.length ?? 0, 0, 'the last page has no token');
    // A fresh listing shows the new schedule first.
    assert.deepEqual((await sdkList({ query, pageSize: 2 })).map(short), ['c', 'b', 'm', 'a']);
    // A token this server did not make: INVALID_ARGUMENT.
    await expectGrpcError(svc.listSchedules({ namespace: NS, query, nextPageToken: Buffer.from('garbage') }), 3, /Invalid NextPageToken/);
  } finally {
    for (const h of created) await h.delete().catch(() => {});
  }
});

test('worker versioning and deployment RPCs answer as a Temporal server with its default dynamic config', { timeout: TEST_TIMEOUT }, async () => {
  // Temporal (common/dynamicconfig): frontend.workerVersioningDataAPIs and
  // frontend.workerVersioningRuleAPIs default to false, so v0.1 and v0.2 answer PERMISSION_DENIED
  // (GetWorkerTaskReachability, gated by the data flag, with the v0.2 text); the pre-release
  // deployment RPCs answer UNIMPLEMENTED in every configuration. Worker Deployments are on by
  // default in Temporal and not implemented here: UNIMPLEMENTED (a README limit).
  const svc = suite.client.workflowService;
  const taskQueue = uniqueName('gaps3-versioning');
  const v01 = /^Worker versioning v0\.1 \(Version Set-based, deprecated\) is disabled on this namespace\.$/;
  const v02 = /^Worker versioning v0\.2 \(Rules-based, deprecated\) is disabled on this namespace\.$/;
  const PERMISSION_DENIED = 7;
  const UNIMPLEMENTED = 12;
  await expectGrpcError(svc.getWorkerBuildIdCompatibility({ namespace: NS, taskQueue }), PERMISSION_DENIED, v01);
  await expectGrpcError(svc.updateWorkerBuildIdCompatibility({ namespace: NS, taskQueue, addNewBuildIdInNewDefaultSet: 'b1' }),
    PERMISSION_DENIED, v01);
  await expectGrpcError(svc.getWorkerTaskReachability({ namespace: NS, buildIds: ['b1'], taskQueues: [taskQueue] }), PERMISSION_DENIED, v02);
  await expectGrpcError(svc.getWorkerVersioningRules({ namespace: NS, taskQueue }), PERMISSION_DENIED, v02);
  await expectGrpcError(svc.updateWorkerVersioningRules({ namespace: NS, taskQueue, conflictToken: Buffer.alloc(0) }), PERMISSION_DENIED, v02);
  const deprecated = /^Deployments are deprecated and no longer supported, use Worker Deployments instead$/;
  await expectGrpcError(svc.listDeployments({ namespace: NS }), UNIMPLEMENTED, deprecated);
  await expectGrpcError(svc.describeDeployment({ namespace: NS, deployment: { seriesName: 's', buildId: 'b' } }), UNIMPLEMENTED, deprecated);
  await expectGrpcError(svc.getCurrentDeployment({ namespace: NS, seriesName: 's' }), UNIMPLEMENTED, deprecated);
  await expectGrpcError(svc.describeWorkerDeployment({ namespace: NS, deploymentName: 'd' }), UNIMPLEMENTED,
    /^Worker Deployments \(Worker Versioning\) are not implemented by Temporalite\.$/);
  await expectGrpcError(svc.listWorkerDeployments({ namespace: NS }), UNIMPLEMENTED, /not implemented by Temporalite/);
  // The SDK's task-queue client surfaces the same answer.
  await assert.rejects(suite.client.taskQueue.getBuildIdCompatability(taskQueue), (e) => /Worker versioning v0\.1/.test(String(e.details ?? e.message) + String(e.cause?.details ?? '')));
});
