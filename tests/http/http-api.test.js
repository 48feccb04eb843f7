'use strict';
// Temporal's HTTP API (/api/v1) on the real server: a table generated from the .proto
// annotations (every route exercised or listed as unsupported with its reason), error mapping,
// bad input (status + nothing changed), long polls, settings, history download and health.
const test = require('node:test');
const assert = require('node:assert/strict');

const { setupSuite } = require('../compat/suite');
const { pollUntil } = require('../compat/harness');
const { loadRoutes, fillPath } = require('./routes');
const { request, payload, fromPayload, b64 } = require('./http');

const activities = {
  async msgEchoActivity(value) {
    return value;
  },
};
const suite = setupSuite({ activities, serverOptions: { headless: false } });

const NS = 'default';
const TQ = 'http-api';
const IDLE_TQ = 'http-idle'; // no worker polls it: workflows there stay running
const ids = { wid: 'http-upd', cancelWid: 'http-cancel', termWid: 'http-term', sigWid: 'http-sws', batchWid: 'http-batch' };
const S = (n) => `${n}-${Date.now()}`;

const base = () => suite.server.httpUrl();
const url = (path) => base() + path;
const GET = (path, opts) => request('GET', url(path), opts);
const POST = (path, body, opts = {}) => request('POST', url(path), { ...opts, body: body ?? opts.body });
const wfPath = (wid) => `/api/v1/namespaces/${NS}/workflows/${encodeURIComponent(wid)}`;

function ok(res, what) {
  assert.equal(res.status, 200, `${what}: HTTP ${res.status} ${res.text}`);
  return res.json;
}
function apiError(res, httpStatus, grpcCode, what) {
  assert.equal(res.status, httpStatus, `${what}: HTTP ${res.status} ${res.text}`);
  assert.equal(res.json?.code, grpcCode, `${what}: ${res.text}`);
  assert.equal(typeof res.json.message, 'string');
  assert.ok(Array.isArray(res.json.details), `${what}: details`);
  return res.json;
}
const describe = (wid) => GET(wfPath(wid));
async function startIdle(wid, type = 'msgSignalCollectorWorkflow') {
  return ok(await POST(wfPath(wid), { workflowType: { name: type }, taskQueue: { name: IDLE_TQ }, input: { payloads: [payload(5)] },
    requestId: S('req') }), `start ${wid}`);
}

// ---- routes that are deliberately unsupported (the server answers UNIMPLEMENTED, as over gRPC) ----
const REASONS = [
  [/Deployment|WorkerBuildId|WorkerVersioning|WorkerTaskReachability/, 'worker versioning and deployments are not implemented'],
  [/Nexus/, 'Nexus is not implemented'],
  [/^(Start|Describe|List|Count|Poll|RequestCancel|Terminate)ActivityExecution/, 'standalone activities are not implemented'],
  [/^(Pause|Unpause|Reset)Activity|^UpdateActivity/, 'activity pause/unpause/reset/options are not implemented'],
  [/WorkflowRule/, 'workflow rules are not implemented'],
  [/^(RecordWorkerHeartbeat|ListWorkers|CountWorkers|DescribeWorker|FetchWorkerConfig|UpdateWorkerConfig|UpdateTaskQueueConfig)$/,
    'worker heartbeats/config and task-queue config are not implemented'],
  [/^ListArchivedWorkflowExecutions$/, 'archival is not supported'],
  [/^(Pause|Unpause)WorkflowExecution$|^UpdateWorkflowExecutionOptions$/, 'workflow pause and workflow options are not implemented'],
  [/^PollWorkflowExecutionTimeSkipping$/, 'time skipping is not implemented'],
];
const unsupportedReason = (method) => (REASONS.find(([re]) => re.test(method)) || [])[1];
// Of those, the ones Temporal's server disables by default (worker versioning v0.1 and v0.2):
// PERMISSION_DENIED (HTTP 403) with Temporal's text instead of UNIMPLEMENTED.
const disabledAsInTemporal = (method) => /WorkerBuildId|WorkerVersioningRules|WorkerTaskReachability/.test(method);

// ---- routes exercised: each function gets the route and checks what the method does ----
const ctx = {};
const EXERCISED = {
  async GetSystemInfo(r) {
    const j = ok(await GET(r.path), r.method);
    assert.ok(j.serverVersion);
    assert.equal(j.capabilities.supportsSchedules, true);
  },
  async GetClusterInfo(r) {
    const j = ok(await GET(r.path), r.method);
    assert.match(j.serverVersion, /^1\.\d+/);
    assert.equal(j.clusterName, 'active');
    assert.equal(j.historyShardCount, 1);
  },
  async ListNamespaces(r) {
    const j = ok(await GET(r.path), r.method);
    assert.ok(j.namespaces.some((n) => n.namespaceInfo.name === NS));
  },
  async RegisterNamespace(r) {
    ok(await POST(r.path, { namespace: 'http-ns', workflowExecutionRetentionPeriod: '172800s' }), r.method);
  },
  async DescribeNamespace(r) {
    const j = ok(await GET(fillPath(r.path, { namespace: 'http-ns' })), r.method);
    assert.equal(j.namespaceInfo.name, 'http-ns');
    assert.equal(j.namespaceInfo.state, 'NAMESPACE_STATE_REGISTERED');
    assert.equal(j.config.workflowExecutionRetentionTtl, '172800s');
  },
  async UpdateNamespace(r) {
    ok(await POST(fillPath(r.path, { namespace: 'http-ns' }), { updateInfo: { description: 'via http' } }), r.method);
    const j = ok(await GET('/api/v1/namespaces/http-ns'), 'describe');
    assert.equal(j.namespaceInfo.description, 'via http');
  },
  async ListSearchAttributes(r) {
    const j = ok(await GET(fillPath(r.path, { namespace: NS })), r.method);
    assert.equal(j.systemAttributes.WorkflowId, 'INDEXED_VALUE_TYPE_KEYWORD');
  },
  async StartWorkflowExecution(r) {
    const body = { workflowType: { name: 'msgUpdatableWorkflow' }, taskQueue: { name: TQ }, requestId: S('start') };
    const j = ok(await POST(fillPath(r.path, { namespace: NS, workflow_id: ids.wid }), body), r.method);
    assert.match(j.runId, /^[0-9a-f-]{36}$/);
    assert.equal(j.started, true);
    ctx.runId = j.runId;
    // The same id again (another request id): ALREADY_EXISTS -> 409 with Temporal's detail.
    const dup = apiError(await POST(fillPath(r.path, { namespace: NS, workflow_id: ids.wid }), { ...body, requestId: S('dup') }),
      409, 6, 'duplicate start');
    assert.equal(dup.details[0]['@type'], 'type.googleapis.com/temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure');
    assert.equal(dup.details[0].runId, ctx.runId);
  },
  async DescribeWorkflowExecution(r) {
    const p = fillPath(r.path, { namespace: NS, 'execution.workflow_id': ids.wid });
    const camel = ok(await GET(`${p}?execution.runId=${ctx.runId}`), r.method);
    assert.equal(camel.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_RUNNING');
    assert.equal(camel.workflowExecutionInfo.execution.runId, ctx.runId);
    assert.equal(camel.workflowExecutionInfo.type.name, 'msgUpdatableWorkflow');
    const snake = ok(await GET(`${p}?execution.run_id=${ctx.runId}`), 'snake_case query');
    assert.equal(snake.workflowExecutionInfo.execution.runId, ctx.runId);
    apiError(await GET(`${p}?execution.runId=0190a1b2-0000-7000-8000-000000000000`), 404, 5, 'unknown run');
  },
  async GetWorkflowExecutionHistory(r) {
    const p = fillPath(r.path, { namespace: NS, 'execution.workflow_id': ids.wid });
    const first = ok(await GET(`${p}?execution.runId=${ctx.runId}`), r.method);
    const ev = first.history.events;
    assert.equal(ev[0].eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
    assert.equal(ev[0].eventId, '1'); // int64 as a string
    // Paging with maximumPageSize / next_page_token (snake_case).
    const page1 = ok(await GET(`${p}?maximumPageSize=1`), 'page 1');
    assert.equal(page1.history.events.length, 1);
    assert.ok(page1.nextPageToken);
    const page2 = ok(await GET(`${p}?maximum_page_size=1&next_page_token=${encodeURIComponent(page1.nextPageToken)}`), 'page 2');
    assert.equal(page2.history.events[0].eventId, '2');
    // Long poll: with waitNewEvent the running workflow's page carries a token; the next call
    // waits for a new event (a signal sent while it waits), then returns it. First the workflow
    // must be idle (no workflow task or activity pending): then nothing but the signal adds an
    // event, so the poll cannot be answered by the events of a task still in flight.
    await pollUntil(async () => {
      const d = ok(await describe(ids.wid), 'describe');
      return !d.pendingWorkflowTask && !(d.pendingActivities || []).length;
    }, { timeoutMs: 30000, what: `${ids.wid} idle` });
    const head = ok(await GET(`${p}?waitNewEvent=true`), 'long poll head');
    assert.ok(head.nextPageToken, 'a running workflow returns a continuation token');
    const lastId = Number(head.history.events.at(-1).eventId);
    let answered = false;
    const waiting = GET(`${p}?waitNewEvent=true&nextPageToken=${encodeURIComponent(head.nextPageToken)}`, { timeoutMs: 30000 })
      .finally(() => { answered = true; });
    // A request behind it on the server (the poll has been read by then, or is read with it).
    ok(await describe(ids.wid), 'describe while the long poll waits');
    assert.equal(answered, false, 'a long poll waits while there is no new event');
    ok(await POST(`${wfPath(ids.wid)}/signal/noop`, { workflowExecution: { workflowId: ids.wid }, input: { payloads: [payload(1)] } }),
      'signal during long poll');
    const next = ok(await waiting, 'long poll answer');
    assert.equal(Number(next.history.events[0].eventId), lastId + 1, 'the answer starts after the head');
    assert.equal(next.history.events[0].eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED');
  },
  async GetWorkflowExecutionHistoryReverse(r) {
    const p = fillPath(r.path, { namespace: NS, 'execution.workflow_id': ids.wid });
    const j = ok(await GET(`${p}?execution.runId=${ctx.runId}&maximumPageSize=2`), r.method);
    assert.equal(j.history.events.length, 2);
    assert.ok(Number(j.history.events[0].eventId) > Number(j.history.events[1].eventId));
  },
  async SignalWorkflowExecution(r) {
    const p = fillPath(r.path, { namespace: NS, 'workflow_execution.workflow_id': ids.wid, signal_name: 'noop' });
    ok(await POST(p, { workflowExecution: { workflowId: ids.wid }, input: { payloads: [payload('x')] }, requestId: S('sig') }), r.method);
  },
  async UpdateWorkflowExecution(r) {
    const p = fillPath(r.path, { namespace: NS, 'workflow_execution.workflow_id': ids.wid, 'request.input.name': 'addViaActivity' });
    // lifecycleStage by its short name.
    const j = ok(await POST(p, { workflowExecution: { workflowId: ids.wid }, waitPolicy: { lifecycleStage: 'Completed' },
      request: { meta: { updateId: 'u1' }, input: { args: { payloads: [payload('hello')] } } } }), r.method);
    assert.equal(fromPayload(j.outcome.success.payloads[0]), 'added:hello');
    assert.equal(j.stage, 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED');
  },
  async QueryWorkflow(r) {
    const p = fillPath(r.path, { namespace: NS, 'execution.workflow_id': ids.wid, 'query.query_type': 'log' });
    const j = ok(await POST(p, { execution: { workflowId: ids.wid }, query: {} }), r.method);
    assert.deepEqual(fromPayload(j.queryResult.payloads[0]), ['hello']);
  },
  async DescribeTaskQueue(r) {
    const p = fillPath(r.path, { namespace: NS, 'task_queue.name': TQ });
    const byNumber = ok(await GET(`${p}?taskQueueType=1`), r.method); // enum by number
    assert.ok(byNumber.pollers.length >= 1, 'the worker polls the workflow queue');
    ok(await GET(`${p}?taskQueueType=TASK_QUEUE_TYPE_ACTIVITY`), 'enum by full name');
    apiError(await GET(`${p}?taskQueueType=NO_SUCH_TYPE`), 400, 3, 'unknown enum in a query parameter');
  },
  async ListWorkflowExecutions(r) {
    const q = encodeURIComponent(`WorkflowId = '${ids.wid}'`);
    const j = ok(await GET(`${fillPath(r.path, { namespace: NS })}?query=${q}&pageSize=10`), r.method);
    assert.equal(j.executions.length, 1);
    assert.equal(j.executions[0].execution.workflowId, ids.wid);
  },
  async CountWorkflowExecutions(r) {
    const j = ok(await GET(`${fillPath(r.path, { namespace: NS })}?query=${encodeURIComponent('GROUP BY ExecutionStatus')}`), r.method);
    assert.ok(Number(j.count) >= 1);
    assert.ok(j.groups.some((g) => g.groupValues[0].data));
  },
  async RequestCancelWorkflowExecution(r) {
    await startIdle(ids.cancelWid);
    // The UI sends cancel with no body at all.
    ok(await request('POST', url(fillPath(r.path, { namespace: NS, 'workflow_execution.workflow_id': ids.cancelWid }))), r.method);
    const h = ok(await GET(`${wfPath(ids.cancelWid)}/history`), 'history');
    assert.ok(h.history.events.some((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED'));
  },
  async TerminateWorkflowExecution(r) {
    await startIdle(ids.termWid);
    ok(await POST(fillPath(r.path, { namespace: NS, 'workflow_execution.workflow_id': ids.termWid }), { reason: 'http test' }), r.method);
    const d = ok(await describe(ids.termWid), 'describe');
    assert.equal(d.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_TERMINATED');
  },
  async SignalWithStartWorkflowExecution(r) {
    const p = fillPath(r.path, { namespace: NS, workflow_id: ids.sigWid, signal_name: 'item' });
    const j = ok(await POST(p, { workflowType: { name: 'msgSignalCollectorWorkflow' }, taskQueue: { name: IDLE_TQ },
      input: { payloads: [payload(3)] }, signalInput: { payloads: [payload('a')] }, requestId: S('sws') }), r.method);
    assert.ok(j.runId);
    const h = ok(await GET(`${wfPath(ids.sigWid)}/history`), 'history');
    assert.ok(h.history.events.some((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'));
  },
  async ResetWorkflowExecution(r) {
    const h = ok(await GET(`${wfPath(ids.wid)}/history?execution.runId=${ctx.runId}`), 'history');
    const wftCompleted = h.history.events.find((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED');
    const p = fillPath(r.path, { namespace: NS, 'workflow_execution.workflow_id': ids.wid });
    // resetReapplyType by number, as the UI sends it.
    const j = ok(await POST(p, { workflowExecution: { workflowId: ids.wid, runId: ctx.runId }, reason: 'http reset',
      workflowTaskFinishEventId: wftCompleted.eventId, requestId: S('reset'), resetReapplyType: 1 }), r.method);
    assert.ok(j.runId && j.runId !== ctx.runId);
    ctx.resetRunId = j.runId;
  },
  // Activity task routes: no such activity / task -> the engine's error, mapped.
  async RecordActivityTaskHeartbeat(r) { await activityTokenRoute(r); },
  async RespondActivityTaskCompleted(r) { await activityTokenRoute(r); },
  async RespondActivityTaskFailed(r) { await activityTokenRoute(r); },
  async RespondActivityTaskCanceled(r) { await activityTokenRoute(r); },
  async RecordActivityTaskHeartbeatById(r) { await activityByIdRoute(r); },
  async RespondActivityTaskCompletedById(r) { await activityByIdRoute(r); },
  async RespondActivityTaskFailedById(r) { await activityByIdRoute(r); },
  async RespondActivityTaskCanceledById(r) { await activityByIdRoute(r); },
  async CreateSchedule(r) {
    const p = fillPath(r.path, { namespace: NS, schedule_id: 'http-sched' });
    ok(await POST(p, { requestId: S('sched'), schedule: {
      spec: { interval: [{ interval: '3600s' }] },
      action: { startWorkflow: { workflowId: 'http-sched-wf', workflowType: { name: 'msgSignalCollectorWorkflow' }, taskQueue: { name: IDLE_TQ } } },
      policies: { overlapPolicy: 'BufferOne' }, // short enum name
      state: { paused: true, notes: 'created over http' } } }), r.method);
  },
  async DescribeSchedule(r) {
    const j = ok(await GET(fillPath(r.path, { namespace: NS, schedule_id: 'http-sched' })), r.method);
    assert.equal(j.schedule.policies.overlapPolicy, 'SCHEDULE_OVERLAP_POLICY_BUFFER_ONE');
    assert.equal(j.schedule.state.paused, true);
    ctx.schedule = j.schedule;
  },
  async UpdateSchedule(r) {
    const schedule = { ...ctx.schedule, state: { ...ctx.schedule.state, notes: 'updated over http' } };
    ok(await POST(fillPath(r.path, { namespace: NS, schedule_id: 'http-sched' }), { schedule, requestId: S('upd') }), r.method);
    const j = ok(await GET(`/api/v1/namespaces/${NS}/schedules/http-sched`), 'describe');
    assert.equal(j.schedule.state.notes, 'updated over http');
  },
  async PatchSchedule(r) {
    ok(await POST(fillPath(r.path, { namespace: NS, schedule_id: 'http-sched' }), { patch: { unpause: 'go' }, requestId: S('patch') }), r.method);
    const j = ok(await GET(`/api/v1/namespaces/${NS}/schedules/http-sched`), 'describe');
    assert.ok(!j.schedule.state.paused);
    assert.ok(j.info.futureActionTimes.length >= 1, 'next runs');
  },
  async ListScheduleMatchingTimes(r) {
    const p = fillPath(r.path, { namespace: NS, schedule_id: 'http-sched' });
    const j = ok(await GET(`${p}?startTime=2026-01-01T00:00:00Z&endTime=2026-01-01T05:30:00Z`), r.method);
    assert.equal(j.startTime.length, 5);
  },
  async ListSchedules(r) {
    const j = ok(await GET(`${fillPath(r.path, { namespace: NS })}?maximumPageSize=10`), r.method);
    assert.ok(j.schedules.some((s) => s.scheduleId === 'http-sched'));
  },
  async CountSchedules(r) {
    const p = fillPath(r.path, { namespace: NS });
    assert.equal(ok(await GET(p), r.method).count, '1'); // int64 as a string
    assert.equal(ok(await GET(`${p}?query=${encodeURIComponent("ScheduleId = 'http-sched'")}`), 'by id').count, '1');
    assert.equal(ok(await GET(`${p}?query=${encodeURIComponent("ScheduleId = 'none'")}`), 'no match').count ?? '0', '0');
    apiError(await GET(`${p}?query=${encodeURIComponent('GROUP BY ScheduleId')}`), 400, 3, 'unsupported query');
  },
  async DeleteSchedule(r) {
    const p = fillPath(r.path, { namespace: NS, schedule_id: 'http-sched' });
    ok(await request('DELETE', url(p)), r.method);
    apiError(await GET(p), 404, 5, 'deleted schedule');
  },
  async StartBatchOperation(r) {
    await startIdle(ids.batchWid);
    const p = fillPath(r.path, { namespace: NS, job_id: 'http-job' });
    ok(await POST(p, { visibilityQuery: `WorkflowId = '${ids.batchWid}'`, reason: 'http batch', terminationOperation: {} }), r.method);
    await pollUntil(async () => (await describe(ids.batchWid)).json.workflowExecutionInfo.status === 'WORKFLOW_EXECUTION_STATUS_TERMINATED',
      { timeoutMs: 15000, what: 'batch terminate' });
  },
  async DescribeBatchOperation(r) {
    const j = ok(await GET(fillPath(r.path, { namespace: NS, job_id: 'http-job' })), r.method);
    assert.equal(j.jobId, 'http-job');
    assert.equal(j.operationType, 'BATCH_OPERATION_TYPE_TERMINATE');
  },
  async ListBatchOperations(r) {
    const j = ok(await GET(fillPath(r.path, { namespace: NS })), r.method);
    assert.ok(j.operationInfo.some((o) => o.jobId === 'http-job'));
  },
  async StopBatchOperation(r) {
    // The job has finished: stopping it is refused as over gRPC, and mapped.
    const res = await POST(fillPath(r.path, { namespace: NS, job_id: 'http-job' }), { reason: 'stop', identity: 'http' });
    if (res.status !== 200) apiError(res, 400, 9, r.method);
    apiError(await POST(fillPath(r.path, { namespace: NS, job_id: 'no-such-job' }), { reason: 'stop' }), 404, 5, 'unknown job');
  },
};

async function activityTokenRoute(r) {
  const res = await POST(fillPath(r.path, { namespace: NS }), { taskToken: b64('not a task token'), identity: 'http' });
  apiError(res, 400, 3, r.method);
}
async function activityByIdRoute(r) {
  const p = fillPath(r.path, { namespace: NS, workflow_id: ids.termWid, activity_id: 'no-such-activity' });
  const res = await POST(p, { workflowId: ids.termWid, identity: 'http' });
  apiError(res, 404, 5, `${r.method} ${r.path}`);
}

test('every annotated /api/v1 route is exercised or listed as unsupported (generated from the protos)', { timeout: 180000 }, async (t) => {
  const routes = loadRoutes();
  assert.ok(routes.length > 100, `routes read from the protos: ${routes.length}`);
  const unlisted = routes.filter((r) => !EXERCISED[r.method] && !unsupportedReason(r.method));
  assert.deepEqual(unlisted.map((r) => `${r.verb} ${r.path} (${r.method})`), [], 'routes neither exercised nor listed as unsupported');
  for (const m of Object.keys(EXERCISED)) assert.ok(!unsupportedReason(m), `${m} is both exercised and listed as unsupported`);

  await suite.withWorker(TQ, async () => {
    for (const method of Object.keys(EXERCISED)) {
      for (const r of routes.filter((x) => x.method === method)) {
        await t.test(`${r.verb} ${r.path} (${r.method})`, () => EXERCISED[method](r));
      }
    }
    // Let the updatable workflow finish (its `finish` signal) so the worker can stop cleanly.
    await POST(`${wfPath(ids.wid)}/signal/finish`, { workflowExecution: { workflowId: ids.wid } });
  });
  for (const r of routes.filter((x) => unsupportedReason(x.method))) {
    const values = { namespace: NS };
    const res = await request(r.verb, url(fillPath(r.path, values)), { body: r.verb === 'GET' || r.verb === 'DELETE' ? undefined : {} });
    const [status, code] = disabledAsInTemporal(r.method) ? [403, 7] : [501, 12];
    assert.equal(res.status, status, `${r.verb} ${r.path} (${r.method}, unsupported: ${unsupportedReason(r.method)}): ${res.status} ${res.text}`);
    assert.equal(res.json.code, code);
  }
});

test('bad input gets 400 (or 403 cross-origin) and changes nothing', { timeout: 60000 }, async (t) => {
  const wid = 'http-bad';
  const p = wfPath(wid);
  const good = { workflowType: { name: 'msgSignalCollectorWorkflow' }, taskQueue: { name: IDLE_TQ } };
  const rows = [
    ['bad JSON', '{"workflowType": {', 400, 3],
    ['not an object', '[1,2]', 400, 3],
    ['wrong type', { ...good, workflowType: 5 }, 400, 3],
    ['wrong scalar type', { ...good, workflowRunTimeout: 12 }, 400, 3],
    ['unknown field', { ...good, noSuchField: 1 }, 400, 3],
    ['unknown nested field', { ...good, taskQueue: { name: IDLE_TQ, bogus: true } }, 400, 3],
    ['unknown enum', { ...good, workflowIdReusePolicy: 'NO_SUCH_POLICY' }, 400, 3],
    ['oversize body', Buffer.concat([Buffer.from('{"identity":"'), Buffer.alloc(9 << 20, 0x61), Buffer.from('"}')]), 400, 3],
  ];
  for (const [name, body, status, code] of rows) {
    await t.test(name, async () => {
      apiError(await POST(p, body), status, code, name);
      apiError(await describe(wid), 404, 5, `${name}: nothing was started`);
    });
  }
  await startIdle('http-victim');
  const term = `${wfPath('http-victim')}/terminate`;
  const host = new URL(base()).host;
  const refused = [
    ['cross-origin POST', { origin: 'http://evil.example' }],
    ['cross-site fetch metadata', { 'sec-fetch-site': 'cross-site' }],
    ['foreign Host (DNS rebinding)', { host: 'evil.example' }],
    ['origin "null"', { origin: 'null' }],
  ];
  for (const [name, headers] of refused) {
    await t.test(name, async () => {
      apiError(await POST(term, { reason: 'evil' }, { headers }), 403, 7, name);
      const d = ok(await describe('http-victim'), 'describe');
      assert.equal(d.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_RUNNING', `${name}: still running`);
    });
  }
  await t.test('cross-origin GET is a read and allowed', async () => {
    ok(await GET(wfPath('http-victim'), { headers: { origin: 'http://evil.example' } }), 'GET');
  });
  await t.test('same-origin POST is allowed', async () => {
    ok(await POST(term, { reason: 'same origin' }, { headers: { origin: `http://${host}` } }), 'terminate');
    assert.equal(ok(await describe('http-victim')).workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_TERMINATED');
  });
  await t.test('routing errors', async () => {
    apiError(await request('DELETE', url(wfPath('x'))), 405, 12, 'wrong method');
    apiError(await GET('/api/v1/no/such/route'), 404, 5, 'unknown route');
    apiError(await GET(`/api/v1/namespaces/${NS}/workflows/bad%zzescape`), 404, 5, 'malformed escape');
    apiError(await GET(`/api/v1/namespaces/no-such-ns/workflows`), 404, 5, 'unknown namespace');
  });
});

test('workflow ids with slashes and spaces travel percent-encoded', async () => {
  const wid = 'http/a b?c';
  await startIdle(wid);
  const d = ok(await describe(wid), 'describe');
  assert.equal(d.workflowExecutionInfo.execution.workflowId, wid);
  ok(await POST(`${wfPath(wid)}/terminate`, { reason: 'done' }), 'terminate');
});

test('settings, history.json download, health on both ports, the UI port without a built UI', async () => {
  const s = ok(await GET('/api/v1/settings'), 'settings');
  assert.equal(s.DefaultNamespace, 'default');
  assert.ok(s.Version >= '2.23.0');
  assert.equal(s.Auth.Enabled, false);
  assert.equal(s.Codec.Endpoint, '');

  const d = ok(await describe(ids.termWid), 'describe');
  const runId = d.workflowExecutionInfo.execution.runId;
  const res = await GET(`${wfPath(ids.termWid)}/run/${runId}/history.json`);
  assert.equal(res.status, 200);
  assert.ok(Array.isArray(res.json), 'a plain JSON array of events');
  assert.equal(res.json[0].eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
  assert.equal(res.json.at(-1).eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED');
  assert.match(res.headers['content-disposition'], /attachment/);
  apiError(await GET(`${wfPath(ids.termWid)}/run/0190a1b2-0000-7000-8000-000000000000/history.json`), 404, 5, 'unknown run');

  const ui = suite.server.uiUrl();
  assert.ok(ui, 'the UI line is printed');
  for (const b of [base(), ui]) {
    assert.equal((await request('GET', `${b}/healthz`)).status, 200);
    const ready = await request('GET', `${b}/readyz`);
    assert.equal(ready.status, 200, ready.text);
  }
  // A binary built with the web UI embedded (src/ui) serves it; one built without it (no node,
  // -DTEMPORALITE_UI=OFF) says so on its start-up line and answers the notice.
  const page = await request('GET', `${ui}/workflows`);
  assert.match(page.headers['content-type'], /text\/html/);
  if (/^UI:.*not built/m.test(suite.server.stdout())) {
    assert.equal(page.status, 503);
    assert.match(page.text, /web UI was not built/);
  } else {
    assert.equal(page.status, 200);
    assert.match(page.text, /\/_app\/immutable\//);
  }
  ok(await request('GET', `${ui}/api/v1/system-info`), 'the API on the UI port');
  assert.equal((await request('GET', `${base()}/`)).status, 404, 'no UI on the API port');
});

test('200 concurrent history long polls do not starve other requests', { timeout: 120000 }, async () => {
  const wid = S('http-many-polls');
  await startIdle(wid); // no worker polls its queue: no new event until the signal below
  const p = `/api/v1/namespaces/${NS}/workflows/${encodeURIComponent(wid)}/history`;
  // Follow the history to its end: the token then makes the next call wait.
  const head = ok(await GET(`${p}?waitNewEvent=true`), 'head');
  const token = head.nextPageToken;
  assert.ok(token, 'a running workflow returns a continuation token');
  const N = 200;
  const { Agent } = require('node:http');
  const agent = new Agent({ keepAlive: false, maxSockets: N + 10 });
  let answered = 0;
  const polls = [];
  const sent = [];
  for (let i = 0; i < N; i++) {
    polls.push(
      request('GET', url(`${p}?waitNewEvent=true&nextPageToken=${encodeURIComponent(token)}`), { timeoutMs: 90000, agent, onSent: (f) => sent.push(f) })
        .then((res) => { answered++; return res; }),
    );
  }
  await pollUntil(async () => sent.length === N, { timeoutMs: 20000, what: 'all long polls sent' });
  // Ordinary requests answer at once while the long polls wait (with a fixed pool of 32
  // listener threads they waited for the poll timeout, about 60 s). Each on a new connection: a
  // kept-alive one already has its thread.
  const fresh = new Agent({ keepAlive: false });
  for (const path of ['/api/v1/namespaces', `/api/v1/namespaces/${NS}/workflows/${encodeURIComponent(wid)}`, '/healthz']) {
    const t0 = Date.now();
    const res = await GET(path, { timeoutMs: 10000, agent: fresh });
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    assert.ok(Date.now() - t0 < 5000, `${path} answered in ${Date.now() - t0} ms with ${N} long polls waiting`);
  }
  assert.equal(answered, 0, 'the long polls are still waiting (no new event yet)');
  ok(await POST(`${wfPath(wid)}/signal/noop`, { workflowExecution: { workflowId: wid }, input: { payloads: [payload(1)] } }), 'signal');
  const results = await Promise.all(polls);
  for (const res of results) {
    const j = ok(res, 'long poll');
    assert.ok(j.history.events.some((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'), res.text);
  }
  agent.destroy();
  ok(await POST(`${wfPath(wid)}/terminate`, { reason: 'done' }), 'terminate');
});
