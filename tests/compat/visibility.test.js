'use strict';
// Compatibility suite: visibility (list/count/scan, the list-filter language, search attributes,
// legacy open/closed lists) with the official Temporal TypeScript SDK (1.24.0) and raw gRPC
// against temporalite. Expectations and error texts follow Temporal's SQL visibility.
//
// One server for the whole file (started with --search-attribute flags); each test uses its own
// workflow types or ids so the tests do not see each other's workflows.

const assert = require('node:assert/strict');

const { temporal } = require('@temporalio/proto');

const { pollUntil, uniqueName, eventsOfType, grpcCode, expectGrpcError } = require('./harness');
const { TEST_TIMEOUT, NS, setupSuite, resultWithin, test } = require('./suite');

const { IndexedValueType, WorkflowTaskFailedCause } = temporal.api.enums.v1;

const suite = setupSuite({
  serverOptions: { extraArgs: ['--search-attribute', 'CustomKeywordField=Keyword', '--search-attribute', 'CustomIntField=int'] },
});
const { withWorker, terminateQuietly } = suite;

const INVALID_ARGUMENT = 3;
const expectInvalid = (promise, pattern) => expectGrpcError(promise, INVALID_ARGUMENT, pattern);

async function listIds(query) {
  const ids = [];
  for await (const wf of suite.client.workflow.list({ query })) ids.push(wf.workflowId);
  return ids.sort();
}

async function addAttributes(attrs) {
  await suite.connection.operatorService.addSearchAttributes({ namespace: NS, searchAttributes: attrs });
}

let attributesAdded;
async function ensureAllTypes() {
  if (!attributesAdded) {
    attributesAdded = addAttributes({
      VisText: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
      VisKeyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      VisInt: IndexedValueType.INDEXED_VALUE_TYPE_INT,
      VisDouble: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
      VisBool: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
      VisDatetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
      VisKeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    });
  }
  await attributesAdded;
}

test('GetSystemInfo reports count group-by support', { timeout: TEST_TIMEOUT }, async () => {
  const info = await suite.client.workflowService.getSystemInfo({});
  assert.equal(info.capabilities.countGroupByExecutionStatus, true);
});

test('operator search attributes: --search-attribute, add, list, remove and Temporal errors', { timeout: TEST_TIMEOUT }, async () => {
  const op = suite.connection.operatorService;
  let list = await op.listSearchAttributes({ namespace: NS });
  // Registered at startup by the server flags; the dev server predefines no other custom ones.
  assert.deepEqual(Object.keys(list.customAttributes).filter((k) => k.startsWith('Custom')).sort(), ['CustomIntField', 'CustomKeywordField']);
  assert.equal(list.customAttributes.CustomIntField, IndexedValueType.INDEXED_VALUE_TYPE_INT);
  for (const [name, type] of [
    ['WorkflowId', IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD],
    ['ExecutionStatus', IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD],
    ['StartTime', IndexedValueType.INDEXED_VALUE_TYPE_DATETIME],
    ['TemporalScheduledById', IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD],
    ['TemporalScheduledStartTime', IndexedValueType.INDEXED_VALUE_TYPE_DATETIME],
    ['TemporalSchedulePaused', IndexedValueType.INDEXED_VALUE_TYPE_BOOL],
    ['BuildIds', IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST],
  ]) {
    assert.equal(list.systemAttributes[name], type, name);
  }

  // WorkflowService.GetSearchAttributes lists the types of every name a query may use.
  const keys = (await suite.client.workflowService.getSearchAttributes({})).keys;
  assert.equal(keys.CustomIntField, IndexedValueType.INDEXED_VALUE_TYPE_INT);
  assert.equal(keys.ExecutionStatus, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);

  const name = uniqueName('OpAttr').replace(/-/g, '_');
  await addAttributes({ [name]: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE });
  // Adding again is a no-op (Temporal's SQL visibility logs and skips it).
  await addAttributes({ [name]: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE });
  list = await op.listSearchAttributes({ namespace: NS });
  assert.equal(list.customAttributes[name], IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE);

  await expectInvalid(addAttributes({ WorkflowId: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD }), /^Search attribute WorkflowId is reserved by system\.$/);
  await expectInvalid(addAttributes({ TemporalScheduledById: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD }), /reserved by system/);
  await expectInvalid(addAttributes({ Foo: 99 }), /^Unknown search attribute type: 99\.$/);
  await expectInvalid(op.addSearchAttributes({ namespace: NS, searchAttributes: {} }), /SearchAttributes are not set on request/);
  await expectInvalid(op.removeSearchAttributes({ namespace: NS, searchAttributes: ['WorkflowId'] }), /Unable to remove non-custom search attributes: WorkflowId/);

  await op.removeSearchAttributes({ namespace: NS, searchAttributes: [name] });
  list = await op.listSearchAttributes({ namespace: NS });
  assert.equal(list.customAttributes[name], undefined);
  // Namespace-scoped: another namespace does not see the default namespace's attributes.
  await assert.rejects(op.listSearchAttributes({ namespace: 'no-such-namespace' }), (e) => grpcCode(e) === 5);
});

test('start: search attributes of every type are stored, described and filterable with every operator', { timeout: 60000 }, async () => {
  await ensureAllTypes();
  const type = uniqueName('visTyped');
  const base = uniqueName('wf-typed');
  const rows = [
    { id: `${base}-a`, sa: { VisText: ['the quick brown fox'], VisKeyword: ['alpha'], VisInt: [1], VisDouble: [1.5], VisBool: [true], VisDatetime: [new Date('2024-01-01T00:00:00Z')], VisKeywordList: ['red', 'green'] } },
    { id: `${base}-b`, sa: { VisText: ['lazy dog'], VisKeyword: ['beta'], VisInt: [5], VisDouble: [2.5], VisBool: [false], VisDatetime: [new Date('2024-06-01T12:00:00Z')], VisKeywordList: ['blue'] } },
    { id: `${base}-c`, sa: { VisKeyword: ['alphabet'], VisInt: [10] } },
  ];
  // No worker: the runs stay open (Running) with their start-time attributes.
  for (const r of rows) {
    await suite.client.workflow.start(type, { taskQueue: 'no-worker-' + type, workflowId: r.id, searchAttributes: r.sa });
  }
  const [a, b, c] = rows.map((r) => r.id);
  const desc = await suite.client.workflow.getHandle(a).describe();
  assert.deepEqual(desc.searchAttributes.VisKeyword, ['alpha']);
  assert.deepEqual(desc.searchAttributes.VisKeywordList, ['red', 'green']);
  assert.equal(desc.searchAttributes.VisInt[0], 1);

  const T = `WorkflowType = '${type}'`;
  const cases = [
    [`VisKeyword = 'alpha'`, [a]],
    [`VisKeyword != 'alpha'`, [b, c]],
    [`VisKeyword > 'alpha'`, [b, c]],
    [`VisKeyword >= 'alphabet'`, [b, c]],
    [`VisKeyword < 'beta'`, [a, c]],
    [`VisKeyword <= 'alpha'`, [a]],
    [`VisKeyword IN ('alpha', 'beta')`, [a, b]],
    [`VisKeyword NOT IN ('alpha', 'beta')`, [c]],
    [`VisKeyword STARTS_WITH 'alpha'`, [a, c]],
    [`VisKeyword NOT STARTS_WITH 'alpha'`, [b]],
    [`VisKeyword BETWEEN 'alpha' AND 'alphaz'`, [a, c]],
    [`VisInt = 5`, [b]],
    [`VisInt > 1`, [b, c]],
    [`VisInt >= 5 AND VisInt < 10`, [b]],
    [`VisInt BETWEEN 2 AND 10`, [b, c]],
    [`VisInt NOT BETWEEN 2 AND 10`, [a]],
    [`VisInt IN (1, 10)`, [a, c]],
    [`VisDouble > 2`, [b]],
    [`VisDouble <= 1.5`, [a]],
    [`VisBool = true`, [a]],
    [`VisBool = false`, [b]],
    [`VisBool != true`, [b]],
    [`VisDatetime > '2024-03-01T00:00:00Z'`, [b]],
    [`VisDatetime BETWEEN '2023-12-31T00:00:00Z' AND '2024-01-01T00:00:00.5Z'`, [a]],
    [`VisDatetime = '2024-01-01T01:00:00+01:00'`, [a]],
    [`VisKeywordList = 'red'`, [a]],
    [`VisKeywordList != 'red'`, [b]],
    [`VisKeywordList IN ('green', 'blue')`, [a, b]],
    [`VisKeywordList NOT IN ('green', 'blue')`, []],
    [`VisText = 'quick'`, [a]],
    [`VisText = 'fox quick'`, [a]],
    [`VisText != 'quick'`, [b]],
    [`VisText IS NULL`, [c]],
    [`VisText IS NOT NULL`, [a, b]],
    [`(VisInt = 1 OR VisInt = 10) AND NOT VisKeyword = 'alpha'`, [c]],
    [`VisKeyword = 'alpha' OR (VisInt > 4 AND VisBool = false)`, [a, b]],
    [`\`VisKeyword\` = "beta"`, [b]],
    [`WorkflowId = '${a}'`, [a]],
    [`WorkflowId STARTS_WITH '${base}'`, [a, b, c]],
    [`ExecutionStatus = 'Running'`, [a, b, c]],
    [`ExecutionStatus = 1`, [a, b, c]],
    [`CloseTime IS NULL`, [a, b, c]],
    [`TaskQueue = 'no-worker-${type}'`, [a, b, c]],
    [`HistoryLength >= 2`, [a, b, c]],
    [`RunId = '${desc.runId}'`, [a]],
    [`RootWorkflowId = '${b}'`, [b]],
    [`ParentWorkflowId IS NULL`, [a, b, c]],
    [`StartTime > '2000-01-01T00:00:00Z' AND ExecutionTime > '2000-01-01T00:00:00Z'`, [a, b, c]],
  ];
  for (const [q, want] of cases) {
    assert.deepEqual(await listIds(`${T} AND (${q})`), [...want].sort(), q);
    const { count } = await suite.client.workflow.count(`${T} AND (${q})`);
    assert.equal(count, want.length, `count ${q}`);
  }
  await terminateQuietly(a, b, c);
});

test('start with an undefined attribute or a value of the wrong type is INVALID_ARGUMENT', { timeout: TEST_TIMEOUT }, async () => {
  const opts = (sa) => ({ taskQueue: 'no-worker', workflowId: uniqueName('wf-badsa'), searchAttributes: sa });
  await expectInvalid(suite.client.workflow.start('x', opts({ NoSuchAttribute: ['v'] })), /^search attribute NoSuchAttribute is not defined$/);
  await expectInvalid(suite.client.workflow.start('x', opts({ CustomIntField: ['abc'] })), /^invalid value for search attribute CustomIntField of type Int: /);
  await expectInvalid(suite.client.workflow.start('x', opts({ CustomKeywordField: [1] })), /^invalid value for search attribute CustomKeywordField of type Keyword/);
  await expectInvalid(suite.client.workflow.start('x', opts({ WorkflowType: ['v'] })), /^WorkflowType attribute can't be set in SearchAttributes$/);
});

test('upsert from the workflow is listed; an undefined attribute fails the task with BAD_SEARCH_ATTRIBUTES', { timeout: 60000 }, async () => {
  const taskQueue = uniqueName('tq-upsert');
  const id = uniqueName('wf-upsert');
  const badId = uniqueName('wf-upsert-bad');
  await withWorker(taskQueue, async () => {
    const h = await suite.client.workflow.start('upsertAttributesWorkflow', {
      taskQueue,
      workflowId: id,
      args: [{ CustomKeywordField: ['upserted-' + id], CustomIntField: [42] }, { note: 'memo!' }, true],
    });
    await pollUntil(async () => (await listIds(`CustomKeywordField = 'upserted-${id}'`)).length === 1, { timeoutMs: 10000, what: 'upsert visible' });
    assert.deepEqual(await listIds(`CustomIntField = 42 AND WorkflowId = '${id}'`), [id]);
    const running = [];
    for await (const wf of suite.client.workflow.list({ query: `WorkflowId = '${id}'` })) running.push(wf);
    assert.equal(running.length, 1);
    assert.deepEqual(running[0].searchAttributes.CustomKeywordField, ['upserted-' + id]);
    assert.deepEqual(running[0].memo, { note: 'memo!' });
    assert.equal(running[0].status.name, 'RUNNING');
    await h.signal('finish');
    assert.equal(await resultWithin(h), 'done');
    // The close is visible with Temporal's close-time fields.
    const rows = [];
    for await (const wf of suite.client.workflow.list({ query: `WorkflowId = '${id}' AND ExecutionStatus = 'Completed'` })) rows.push(wf);
    assert.equal(rows.length, 1);
    assert.ok(rows[0].closeTime instanceof Date);
    assert.ok(rows[0].historyLength >= 8, `history length ${rows[0].historyLength}`);

    const bad = await suite.client.workflow.start('upsertAttributesWorkflow', { taskQueue, workflowId: badId, args: [{ NotDefinedAnywhere: ['x'] }, null, false] });
    await pollUntil(async () => eventsOfType(await bad.fetchHistory(), 'WORKFLOW_TASK_FAILED').length > 0, { timeoutMs: 15000, what: 'task failed' });
    const [failed] = eventsOfType(await bad.fetchHistory(), 'WORKFLOW_TASK_FAILED');
    assert.equal(failed.workflowTaskFailedEventAttributes.cause, WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES);
    assert.match(failed.workflowTaskFailedEventAttributes.failure.message, /search attribute NotDefinedAnywhere is not defined/);
  });
  await terminateQuietly(badId);
});

test('count with GROUP BY ExecutionStatus; ORDER BY; legacy open/closed lists and their filters', { timeout: 60000 }, async () => {
  const taskQueue = uniqueName('tq-outcome');
  const type = 'visibilityOutcomeWorkflow';
  const prefix = uniqueName('wf-outcome');
  const ids = [];
  await withWorker(taskQueue, async () => {
    for (let i = 0; i < 5; i++) {
      const id = `${prefix}-${i}`;
      ids.push(id);
      const h = await suite.client.workflow.start(type, { taskQueue, workflowId: id, args: [i % 2 === 1], searchAttributes: { CustomIntField: [i] } });
      await h.result().catch(() => {});
    }
  });
  const running = `${prefix}-running`;
  await suite.client.workflow.start(type, { taskQueue: 'no-worker-outcome', workflowId: running, searchAttributes: { CustomIntField: [100] } });
  const scope = `WorkflowId STARTS_WITH '${prefix}'`;

  const res = await suite.client.workflow.count(`${scope} GROUP BY ExecutionStatus`);
  assert.equal(res.count, 6);
  const groups = Object.fromEntries(res.groups.map((g) => [g.groupValues[0], g.count]));
  assert.deepEqual(groups, { Running: 1, Completed: 3, Failed: 2 });
  assert.equal((await suite.client.workflow.count(`${scope} AND ExecutionStatus = 'Failed'`)).count, 2);

  const ordered = [];
  for await (const wf of suite.client.workflow.list({ query: `${scope} ORDER BY CustomIntField DESC` })) ordered.push(wf.workflowId);
  assert.deepEqual(ordered, [running, ...[...ids].reverse()]);
  const asc = [];
  for await (const wf of suite.client.workflow.list({ query: `${scope} AND ExecutionStatus != 'Running' ORDER BY CustomIntField` })) asc.push(wf.workflowId);
  assert.deepEqual(asc, ids);
  // Default order: open runs first, then by close time descending.
  const dflt = [];
  for await (const wf of suite.client.workflow.list({ query: scope })) dflt.push(wf.workflowId);
  assert.deepEqual(dflt, [running, ...[...ids].reverse()]);

  const svc = suite.client.workflowService;
  const open = await svc.listOpenWorkflowExecutions({ namespace: NS, maximumPageSize: 100, executionFilter: { workflowId: running } });
  assert.deepEqual(open.executions.map((e) => e.execution.workflowId), [running]);
  const closedFailed = await svc.listClosedWorkflowExecutions({
    namespace: NS,
    maximumPageSize: 100,
    typeFilter: { name: type },
    statusFilter: { status: temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED },
  });
  const failedIds = closedFailed.executions.map((e) => e.execution.workflowId).filter((id) => id.startsWith(prefix)).sort();
  assert.deepEqual(failedIds, [ids[1], ids[3]]);
  const future = await svc.listClosedWorkflowExecutions({
    namespace: NS,
    maximumPageSize: 100,
    startTimeFilter: { earliestTime: { seconds: Math.floor(Date.now() / 1000) + 3600 } },
  });
  assert.equal(future.executions.length, 0);
  const scan = await svc.scanWorkflowExecutions({ namespace: NS, query: scope, pageSize: 2 });
  assert.equal(scan.executions.length, 2);
  assert.ok(scan.nextPageToken.length > 0);
  await terminateQuietly(running);
});

test('paging over more than 1000 results: no duplicates, nothing missing, page size capped at 1000', { timeout: 120000 }, async () => {
  const type = uniqueName('visPaging');
  const total = 1105;
  const started = new Set();
  for (let i = 0; i < total; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(total, i + 50); j++) {
      const id = `${type}-${j}`;
      started.add(id);
      batch.push(suite.client.workflow.start(type, { taskQueue: 'no-worker-paging', workflowId: id, searchAttributes: { CustomIntField: [j] } }));
    }
    await Promise.all(batch);
  }
  const q = `WorkflowType = '${type}'`;
  const svc = suite.client.workflowService;
  const first = await svc.listWorkflowExecutions({ namespace: NS, query: q, pageSize: 5000 });
  assert.equal(first.executions.length, 1000);
  assert.ok(first.nextPageToken.length > 0);
  const second = await svc.listWorkflowExecutions({ namespace: NS, query: q, pageSize: 5000, nextPageToken: first.nextPageToken });
  assert.equal(second.executions.length, total - 1000);
  assert.equal(second.nextPageToken.length, 0);

  // The SDK's iterator over small pages (default order and ORDER BY) sees every run once.
  for (const query of [q, `${q} ORDER BY CustomIntField`]) {
    const seen = [];
    let token;
    do {
      const page = await svc.listWorkflowExecutions({ namespace: NS, query, pageSize: 97, nextPageToken: token });
      seen.push(...page.executions.map((e) => e.execution.workflowId));
      token = page.nextPageToken && page.nextPageToken.length ? page.nextPageToken : undefined;
    } while (token);
    assert.equal(seen.length, total, query);
    assert.equal(new Set(seen).size, total, query);
  }
  const sdk = await listIds(q);
  assert.equal(sdk.length, total);
  assert.deepEqual(new Set(sdk), started);
  assert.equal((await suite.client.workflow.count(q)).count, total);
  await expectInvalid(svc.listWorkflowExecutions({ namespace: NS, query: q, nextPageToken: Buffer.from('garbage') }), /Invalid NextPageToken/);
});

test('bad queries are INVALID_ARGUMENT with Temporal wording', { timeout: TEST_TIMEOUT }, async () => {
  const cases = [
    [`Nope = 'x'`, /^invalid query: invalid expression: column name 'Nope' is not a valid search attribute$/],
    [`WorkflowId = `, /^invalid query: malformed SQL query: syntax error at position/],
    [`WorkflowId = 'x' AND`, /^invalid query: malformed SQL query: syntax error/],
    [`(WorkflowId = 'x'`, /^invalid query: malformed SQL query: syntax error/],
    [`CustomIntField = 'abc'`, /^invalid query: invalid expression: invalid value type for search attribute CustomIntField of type Int: "abc" \(type: string\)$/],
    [`CustomKeywordField = 5`, /invalid value type for search attribute CustomKeywordField of type Keyword: 5 \(type: int64\)/],
    [`CustomIntField STARTS_WITH 'a'`, /^invalid query: operation is not supported: operator 'STARTS_WITH' not supported for Int type search attribute 'CustomIntField'$/],
    [`StartTime > 'yesterday'`, /^invalid query: invalid expression: unable to parse datetime 'yesterday'$/],
    [`ExecutionStatus = 'Sleeping'`, /^invalid query: invalid expression: invalid ExecutionStatus value 'Sleeping'$/],
    [`ExecutionDuration > 'forever'`, /invalid duration value for search attribute ExecutionDuration: forever/],
    [`WorkflowId = WorkflowType`, /column name on the right side of comparison expression \(did you forget to quote "WorkflowType"\?\)/],
    [`WorkflowId IS 'x'`, /'IS' operator can only be used as 'IS NULL' or 'IS NOT NULL'/],
    [`WorkflowId = 'x' LIMIT 10`, /^invalid query: operation is not supported: 'LIMIT' clause$/],
    [`WorkflowId = 'x' GROUP BY WorkflowType`, /'GROUP BY' clause is not supported for search attribute WorkflowType/],
  ];
  for (const [query, pattern] of cases) {
    await expectInvalid(suite.client.workflowService.listWorkflowExecutions({ namespace: NS, query }), pattern);
    await expectInvalid(suite.client.workflowService.countWorkflowExecutions({ namespace: NS, query }), pattern);
  }
  await ensureAllTypes();
  await expectInvalid(suite.client.workflowService.listWorkflowExecutions({ namespace: NS, query: `VisBool BETWEEN true AND false` }),
    /cannot do range condition on search attribute 'VisBool' of type Bool/);
  await expectInvalid(suite.client.workflowService.listWorkflowExecutions({ namespace: NS, query: `VisKeywordList > 'a'` }),
    /operator '>' not supported for KeywordList type search attribute 'VisKeywordList'/);
  await expectInvalid(suite.client.workflowService.listWorkflowExecutions({ namespace: NS, query: `ORDER BY VisText` }),
    /unable to sort by search attribute type Text/);
});

test('datetime and duration value formats: ExecutionDuration "2h45m", "hh:mm:ss", nanoseconds', { timeout: 60000 }, async () => {
  const taskQueue = uniqueName('tq-duration');
  const id = uniqueName('wf-duration');
  await withWorker(taskQueue, async () => {
    await suite.client.workflow.execute('visibilityOutcomeWorkflow', { taskQueue, workflowId: id, args: [false] });
  });
  const w = `WorkflowId = '${id}'`;
  // A workflow that ran well under a second.
  assert.deepEqual(await listIds(`${w} AND ExecutionDuration < '2h45m'`), [id]);
  assert.deepEqual(await listIds(`${w} AND ExecutionDuration < '00:00:10'`), [id]);
  assert.deepEqual(await listIds(`${w} AND ExecutionDuration < 10000000000`), [id]);
  assert.deepEqual(await listIds(`${w} AND ExecutionDuration > '1d'`), []);
  assert.deepEqual(await listIds(`${w} AND CloseTime > '2000-01-01T00:00:00.000000001Z'`), [id]);
  assert.deepEqual(await listIds(`${w} AND CloseTime < 946684800000000000`), []);
});

test('custom search attributes are namespace-scoped', { timeout: TEST_TIMEOUT }, async () => {
  const ns = uniqueName('vis-ns');
  await suite.client.workflowService.registerNamespace({ namespace: ns, workflowExecutionRetentionPeriod: { seconds: 86400 } });
  const name = uniqueName('NsOnly').replace(/-/g, '_');
  await suite.connection.operatorService.addSearchAttributes({ namespace: ns, searchAttributes: { [name]: IndexedValueType.INDEXED_VALUE_TYPE_INT } });
  // Known in `ns`, unknown in `default` (queries and starts).
  await suite.client.workflowService.countWorkflowExecutions({ namespace: ns, query: `${name} = 1` });
  await expectInvalid(suite.client.workflowService.countWorkflowExecutions({ namespace: NS, query: `${name} = 1` }),
    new RegExp(`column name '${name}' is not a valid search attribute`));
  await expectInvalid(
    suite.client.workflow.start('x', { taskQueue: 'no-worker', workflowId: uniqueName('wf-ns'), searchAttributes: { [name]: [1] } }),
    new RegExp(`^search attribute ${name} is not defined$`),
  );
  const list = await suite.connection.operatorService.listSearchAttributes({ namespace: ns });
  assert.equal(list.customAttributes[name], IndexedValueType.INDEXED_VALUE_TYPE_INT);
  // The --search-attribute ones were registered in the start-up namespaces only.
  assert.equal(list.customAttributes.CustomKeywordField, undefined);
});

test('StartBatchOperation by visibility query: signal and terminate the selected workflows; Temporal validation', { timeout: 60000 }, async () => {
  const type = uniqueName('visBatch');
  const ids = [];
  for (let i = 0; i < 3; i++) {
    ids.push(`${type}-${i}`);
    await suite.client.workflow.start(type, { taskQueue: 'no-worker-batch', workflowId: ids[i], searchAttributes: { CustomIntField: [i] } });
  }
  const svc = suite.client.workflowService;
  const base = { namespace: NS, reason: 'batch test' };
  // Batch jobs run in the background: wait for each to complete (batch.test.js covers the rest).
  const runJob = async (req) => {
    const jobId = uniqueName('job');
    await svc.startBatchOperation({ ...req, jobId });
    await pollUntil(async () => (await svc.describeBatchOperation({ namespace: NS, jobId })).state === 2, { timeoutMs: 20000, what: `job ${jobId}` });
  };
  await runJob({ ...base, visibilityQuery: `WorkflowType = '${type}' AND CustomIntField >= 1`, signalOperation: { signal: 'poke', identity: 'batch' } });
  for (const [i, id] of ids.entries()) {
    const signals = eventsOfType(await suite.client.workflow.getHandle(id).fetchHistory(), 'WORKFLOW_EXECUTION_SIGNALED');
    assert.equal(signals.length, i >= 1 ? 1 : 0, id);
  }
  await runJob({ ...base, visibilityQuery: `WorkflowType = '${type}'`, terminationOperation: { identity: 'batch' } });
  assert.deepEqual(await listIds(`WorkflowType = '${type}' AND ExecutionStatus = 'Terminated'`), [...ids].sort());

  await expectInvalid(svc.startBatchOperation({ ...base, visibilityQuery: 'x', terminationOperation: {} }), /^JobId is not set on request\.$/);
  await expectInvalid(svc.startBatchOperation({ namespace: NS, jobId: 'j', visibilityQuery: 'x', terminationOperation: {} }),
    /^must provide required parameters: BatchType,Reason,Namespace, AND one of \(Query OR Executions OR TargetExecutions\)$/);
  await expectInvalid(svc.startBatchOperation({ ...base, jobId: 'j', visibilityQuery: 'Nope = 1', terminationOperation: {} }),
    /column name 'Nope' is not a valid search attribute/);
});
