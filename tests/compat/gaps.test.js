'use strict';
// Compatibility suite: behaviours where temporalite used to differ from Temporal (memo removal by a
// null upsert, unset timeouts staying absent, signal-with-start keeping every start field), with the
// official Temporal TypeScript SDK (1.24.0) and raw gRPC where the SDK hides the field; search
// attribute payloads typed on the way out.

const assert = require('node:assert/strict');

const { pollUntil, uniqueName } = require('./harness');
const { TEST_TIMEOUT, NS, setupSuite, resultWithin, test } = require('./suite');

const suite = setupSuite({
  serverOptions: {
    extraArgs: ['--search-attribute', 'GapsDatetime=Datetime', '--search-attribute', 'GapsInt=Int', '--search-attribute', 'GapsList=KeywordList'],
  },
});
const { withWorker } = suite;

async function startedEvent(workflowId) {
  const history = await suite.client.workflow.getHandle(workflowId).fetchHistory();
  return history.events[0].workflowExecutionStartedEventAttributes;
}

test('upsertMemo with a null value removes the key (Temporal MergeMapOfPayload)', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('gaps-memo');
  const workflowId = uniqueName('gaps-memo-wf');
  await withWorker(taskQueue, async () => {
    const handle = await suite.client.workflow.start('memoUpsertWorkflow', {
      taskQueue,
      workflowId,
      args: [[{ drop: null, added: 'a' }, { other: null }]],
      memo: { keep: 'k', drop: 'd', other: 1 },
    });
    const memoOf = async () => (await handle.describe()).memo;
    // First upsert: `drop` (JSON null) is removed, `added` appears, the rest stays.
    const first = await pollUntil(async () => {
      const m = await memoOf();
      return m && "added" in m ? m : null;
    }, { timeoutMs: 15000 });
    assert.deepEqual(first, { keep: 'k', other: 1, added: 'a' });
    await handle.signal('go');
    // Second upsert: `other` is removed too (the SDK sends null as a binary/null payload).
    const second = await pollUntil(async () => {
      const m = await memoOf();
      return m && !('other' in m) ? m : null;
    }, { timeoutMs: 15000 });
    assert.deepEqual(second, { keep: 'k', added: 'a' });
    await handle.signal('go');
    assert.deepEqual(await resultWithin(handle, 15000), { keep: 'k', added: 'a' });
    // Closed workflow: describe and list (visibility) agree.
    assert.deepEqual(await memoOf(), { keep: 'k', added: 'a' });
    const listed = [];
    for await (const wf of suite.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) listed.push(wf);
    assert.equal(listed.length, 1);
    assert.deepEqual(listed[0].memo, { keep: 'k', added: 'a' });
  });
});

test('a workflow started without execution or run timeout has them absent (started event, describe, workflow info)', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('gaps-timeouts');
  const unsetId = uniqueName('gaps-unset');
  const runSetId = uniqueName('gaps-runset');
  await withWorker(taskQueue, async () => {
    const unset = await suite.client.workflow.execute('infoWorkflow', { taskQueue, workflowId: unsetId, args: [false] });
    assert.deepEqual(unset, { executionTimeoutMs: 'absent', runTimeoutMs: 'absent', taskTimeoutMs: 10000, priorityKey: 'absent' });
    const runSet = await suite.client.workflow.execute('infoWorkflow', {
      taskQueue,
      workflowId: runSetId,
      args: [false],
      workflowRunTimeout: '1 hour',
    });
    assert.deepEqual(runSet, { executionTimeoutMs: 'absent', runTimeoutMs: 3600000, taskTimeoutMs: 10000, priorityKey: 'absent' });
  });
  // Raw protos: an absent message field decodes as null; a present zero duration would be an object.
  const ev = await startedEvent(unsetId);
  assert.equal(ev.workflowExecutionTimeout, null);
  assert.equal(ev.workflowRunTimeout, null);
  assert.equal(Number(ev.workflowTaskTimeout.seconds), 10);
  const cfg = (await suite.client.workflow.getHandle(unsetId).describe()).raw.executionConfig;
  assert.equal(cfg.workflowExecutionTimeout, null);
  assert.equal(cfg.workflowRunTimeout, null);
  assert.equal(Number(cfg.defaultWorkflowTaskTimeout.seconds), 10);
  const raw = await suite.client.workflowService.describeWorkflowExecution({ namespace: NS, execution: { workflowId: runSetId } });
  assert.equal(raw.executionConfig.workflowExecutionTimeout, null);
  assert.equal(Number(raw.executionConfig.workflowRunTimeout.seconds), 3600);
  const evSet = await startedEvent(runSetId);
  assert.equal(evSet.workflowExecutionTimeout, null);
  assert.equal(Number(evSet.workflowRunTimeout.seconds), 3600);
});

test('a child started without timeouts has them absent in its initiated and started events', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('gaps-child');
  const workflowId = uniqueName('gaps-child-parent');
  await withWorker(taskQueue, async () => {
    await suite.client.workflow.execute('gapsParentWorkflow', { taskQueue, workflowId, args: [`${workflowId}-child`] });
  });
  const history = await suite.client.workflow.getHandle(workflowId).fetchHistory();
  const initiated = history.events.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)
    .startChildWorkflowExecutionInitiatedEventAttributes;
  assert.equal(initiated.workflowExecutionTimeout, null);
  assert.equal(initiated.workflowRunTimeout, null);
  const childEv = await startedEvent(`${workflowId}-child`);
  assert.equal(childEv.workflowExecutionTimeout, null);
  assert.equal(childEv.workflowRunTimeout, null);
});

test('signal-with-start keeps the priority (started event and workflow info)', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('gaps-sws');
  const workflowId = uniqueName('gaps-sws-wf');
  await withWorker(taskQueue, async () => {
    const handle = await suite.client.workflow.signalWithStart('infoWorkflow', {
      taskQueue,
      workflowId,
      args: [true],
      signal: 'go',
      signalArgs: [],
      priority: { priorityKey: 3 },
      workflowRunTimeout: '10 minutes',
    });
    const result = await resultWithin(handle, 15000);
    assert.equal(result.priorityKey, 3);
    assert.equal(result.runTimeoutMs, 600000);
    assert.equal(result.executionTimeoutMs, 'absent');
  });
  const ev = await startedEvent(workflowId);
  assert.equal(ev.priority.priorityKey, 3);
});

test('search attribute payloads carry their type metadata, so the SDK decodes typed values', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('gaps-sa');
  const workflowId = uniqueName('gaps-sa-wf');
  const when = new Date('2026-01-02T03:04:05.000Z');
  const later = new Date('2026-02-03T04:05:06.000Z');
  const names = ['GapsDatetime', 'GapsInt', 'GapsList'];
  await withWorker(taskQueue, async () => {
    // Legacy untyped form: the SDK sends no type metadata; the server adds it.
    const handle = await suite.client.workflow.start('typedAttributesWorkflow', {
      taskQueue,
      workflowId,
      args: [{ GapsDatetime: [later], GapsList: ['x', 'y'] }, names],
      searchAttributes: { GapsDatetime: [when], GapsInt: [7] },
    });
    // Started event as delivered: typed.
    const started = await startedEvent(workflowId);
    const metaType = (p) => Buffer.from(p.metadata.type || '').toString();
    assert.equal(metaType(started.searchAttributes.indexedFields.GapsDatetime), 'Datetime');
    assert.equal(metaType(started.searchAttributes.indexedFields.GapsInt), 'Int');
    await pollUntil(async () => {
      const h = await handle.fetchHistory();
      return h.events.some((e) => e.upsertWorkflowSearchAttributesEventAttributes);
    }, { timeoutMs: 15000 });
    const history = await handle.fetchHistory();
    const upserted = history.events.find((e) => e.upsertWorkflowSearchAttributesEventAttributes)
      .upsertWorkflowSearchAttributesEventAttributes.searchAttributes.indexedFields;
    assert.equal(metaType(upserted.GapsDatetime), 'Datetime');
    assert.equal(metaType(upserted.GapsList), 'KeywordList');
    // Describe: the SDK's typed view has every attribute, with its type and decoded value.
    const desc = await handle.describe();
    const typed = Object.fromEntries(desc.typedSearchAttributes.getAll().map((p) => [p.key.name, p]));
    assert.equal(typed.GapsDatetime.key.type, 'DATETIME');
    assert.ok(typed.GapsDatetime.value instanceof Date);
    assert.equal(typed.GapsDatetime.value.toISOString(), later.toISOString());
    assert.equal(typed.GapsInt.key.type, 'INT');
    assert.equal(typed.GapsInt.value, 7);
    assert.deepEqual(typed.GapsList.value, ['x', 'y']);
    await handle.signal('go');
    // Workflow info: the worker decoded the started event's attributes as typed values.
    assert.deepEqual(await resultWithin(handle, 15000), {
      GapsDatetime: { type: 'DATETIME', value: `date:${when.toISOString()}` },
      GapsInt: { type: 'INT', value: 7 },
    });
  });
  // List (visibility) returns the typed payloads too.
  const listed = [];
  for await (const wf of suite.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) listed.push(wf);
  assert.equal(listed.length, 1);
  const typedListed = Object.fromEntries(listed[0].typedSearchAttributes.getAll().map((p) => [p.key.name, p.value]));
  assert.ok(typedListed.GapsDatetime instanceof Date);
  assert.equal(typedListed.GapsInt, 7);
});
