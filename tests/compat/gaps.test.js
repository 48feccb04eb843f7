'use strict';
// Compatibility suite: behaviours where temporalite used to differ from Temporal (memo removal by a
// null upsert, unset timeouts staying absent, signal-with-start keeping every start field), with the
// official Temporal TypeScript SDK (1.24.0) and raw gRPC where the SDK hides the field; search
// attribute payloads typed on the way out.

const assert = require('node:assert/strict');

const { execFile } = require('node:child_process');
const { Context } = require('@temporalio/activity');

const { pollUntil, uniqueName, serverBinary, expectGrpcError } = require('./harness');
const { TEST_TIMEOUT, NS, setupSuite, resultWithin, test } = require('./suite');

const activities = {
  /** The priority this activity task arrived with (the server's merge of workflow and activity). */
  async activityPriority() {
    const p = Context.current().info.priority;
    return p ? { priorityKey: p.priorityKey ?? null, fairnessKey: p.fairnessKey ?? null } : null;
  },
  async echo(s) {
    return s;
  },
  /** Hands its task token to the test (tokenWaiters) and completes asynchronously. */
  async asyncToken() {
    const { CompleteAsyncError } = require('@temporalio/activity');
    const info = Context.current().info;
    const waiter = tokenWaiters.get(info.workflowExecution.workflowId);
    if (waiter) waiter(info.taskToken);
    throw new CompleteAsyncError();
  },
};
/** workflow id -> resolver of the task token its asyncToken activity got. */
const tokenWaiters = new Map();

// Continue-as-new suggestion thresholds of this file's server (Temporal's defaults: 4096 events, 4 MiB).
const SUGGEST_COUNT = 40;
const SUGGEST_SIZE = 16000;
// Update limits of this file's server (Temporal's defaults: 10 in flight, 2000 per run).
const MAX_IN_FLIGHT = 3;
const MAX_TOTAL = 5;

const suite = setupSuite({
  activities,
  serverOptions: {
    extraArgs: [
      '--search-attribute', 'GapsDatetime=Datetime', '--search-attribute', 'GapsInt=Int', '--search-attribute', 'GapsList=KeywordList',
      '--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_COUNT}`,
      '--dynamic-config-value', `limit.historySize.suggestContinueAsNew=${SUGGEST_SIZE}`,
      '--dynamic-config-value', `history.maxInFlightUpdates=${MAX_IN_FLIGHT}`,
      '--dynamic-config-value', `history.maxTotalUpdates=${MAX_TOTAL}`,
    ],
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

test("schedule describe and list return typed search attribute payloads (the schedule's own and its action's)", { timeout: TEST_TIMEOUT }, async () => {
  // Given in the legacy untyped form (no type metadata), as older SDKs send them: the server
  // types them on the way out, so the SDK's typed view decodes a Datetime as a Date.
  const scheduleId = uniqueName('gaps-sched-typed');
  const when = new Date('2026-03-04T05:06:07.000Z');
  const handle = await suite.client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '1 day' }] },
    action: {
      type: 'startWorkflow', workflowType: 'noWorkerHere', taskQueue: 'nobody',
      searchAttributes: { GapsDatetime: [when], GapsInt: [3], GapsList: ['p', 'q'] },
    },
    searchAttributes: { GapsDatetime: [when], GapsInt: [9], GapsList: ['r'] },
  });
  try {
    const typedMap = (typed) => Object.fromEntries(typed.getAll().map((p) => [p.key.name, p]));
    const d = await handle.describe();
    const own = typedMap(d.typedSearchAttributes);
    assert.equal(own.GapsDatetime.key.type, 'DATETIME');
    assert.ok(own.GapsDatetime.value instanceof Date);
    assert.equal(own.GapsDatetime.value.toISOString(), when.toISOString());
    assert.equal(own.GapsInt.key.type, 'INT');
    assert.equal(own.GapsInt.value, 9);
    assert.deepEqual(own.GapsList.value, ['r']);
    const action = typedMap(d.action.typedSearchAttributes);
    assert.equal(action.GapsDatetime.value.toISOString(), when.toISOString());
    assert.equal(action.GapsInt.value, 3);
    assert.equal(action.GapsList.key.type, 'KEYWORD_LIST');
    assert.deepEqual(action.GapsList.value, ['p', 'q']);
    // Raw: each payload names its type as Temporal's server sets it.
    const raw = await suite.client.workflowService.describeSchedule({ namespace: NS, scheduleId });
    const metaType = (p) => Buffer.from(p.metadata.type || '').toString();
    assert.equal(metaType(raw.searchAttributes.indexedFields.GapsDatetime), 'Datetime');
    assert.equal(metaType(raw.schedule.action.startWorkflow.searchAttributes.indexedFields.GapsList), 'KeywordList');
    // List entries carry the schedule's own attributes, typed.
    const listed = [];
    for await (const s of suite.client.schedule.list({ query: `ScheduleId = '${scheduleId}'` })) listed.push(s);
    assert.equal(listed.length, 1);
    const listedOwn = typedMap(listed[0].typedSearchAttributes);
    assert.ok(listedOwn.GapsDatetime.value instanceof Date);
    assert.equal(listedOwn.GapsInt.value, 9);
  } finally {
    await handle.delete().catch(() => {});
  }
});

/** A json/plain payload's value (user metadata summaries and details are such payloads). */
function payloadText(p) {
  return p ? JSON.parse(Buffer.from(p.data).toString()) : undefined;
}

/** Runs the temporalite CLI against the suite's server; resolves with stdout (rejects on failure). */
function cli(args) {
  return new Promise((resolve, reject) => {
    execFile(serverBinary(), [...args, '--address', suite.server.address], { timeout: 30000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`temporalite ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

test('user metadata of start, activities, timers and children is recorded in events and describe; priorities are inherited', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('gaps-meta');
  const workflowId = uniqueName('gaps-meta-wf');
  const childId = `${workflowId}-child`;
  let result;
  await withWorker(taskQueue, async () => {
    const handle = await suite.client.workflow.start('metadataWorkflow', {
      taskQueue,
      workflowId,
      args: [childId],
      staticSummary: 'workflow summary',
      staticDetails: 'workflow **details**',
      priority: { priorityKey: 2, fairnessKey: 'tenant-a' },
    });
    result = await resultWithin(handle, 20000);
  });
  // Activities and children inherit the workflow's priority; their own fields win (Temporal's merge).
  assert.deepEqual(result, {
    inherited: { priorityKey: 2, fairnessKey: 'tenant-a' },
    overridden: { priorityKey: 5, fairnessKey: 'tenant-a' },
    child: { priorityKey: 2, fairnessKey: 'tenant-a' },
  });
  const history = await suite.client.workflow.getHandle(workflowId).fetchHistory();
  const summaryOf = (pred) => payloadText(history.events.find(pred).userMetadata?.summary);
  assert.equal(summaryOf((e) => e.workflowExecutionStartedEventAttributes), 'workflow summary');
  assert.equal(payloadText(history.events[0].userMetadata.details), 'workflow **details**');
  assert.equal(summaryOf((e) => e.activityTaskScheduledEventAttributes), 'activity summary');
  assert.equal(summaryOf((e) => e.timerStartedEventAttributes), 'timer summary');
  assert.equal(summaryOf((e) => e.startChildWorkflowExecutionInitiatedEventAttributes), 'child summary');
  // Events recorded for commands without metadata carry none.
  const scheduled = history.events.filter((e) => e.activityTaskScheduledEventAttributes);
  assert.equal(scheduled.length, 2);
  assert.equal(scheduled[1].userMetadata, null);
  // The scheduled and initiated events keep what the command sent (the merge happens on dispatch).
  assert.equal(scheduled[0].activityTaskScheduledEventAttributes.priority, null);
  assert.equal(scheduled[1].activityTaskScheduledEventAttributes.priority.priorityKey, 5);
  assert.equal(history.events.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)
    .startChildWorkflowExecutionInitiatedEventAttributes.priority, null);

  // Describe: execution_config.user_metadata (the SDK's staticSummary/staticDetails) and priority.
  const desc = await suite.client.workflow.getHandle(workflowId).describe();
  assert.equal(await desc.staticSummary(), 'workflow summary');
  assert.equal(await desc.staticDetails(), 'workflow **details**');
  assert.equal(desc.raw.workflowExecutionInfo.priority.priorityKey, 2);
  assert.equal(desc.raw.workflowExecutionInfo.priority.fairnessKey, 'tenant-a');
  const child = await suite.client.workflow.getHandle(childId).describe();
  assert.equal(await child.staticSummary(), 'child summary');
  assert.equal(await child.staticDetails(), 'child details');
  assert.equal(child.raw.workflowExecutionInfo.priority.priorityKey, 2);
  const childStarted = (await suite.client.workflow.getHandle(childId).fetchHistory()).events[0];
  assert.equal(payloadText(childStarted.userMetadata.summary), 'child summary');
  assert.equal(childStarted.workflowExecutionStartedEventAttributes.priority.fairnessKey, 'tenant-a');

  // The CLI shows them.
  const text = await cli(['workflow', 'describe', '--workflow-id', workflowId]);
  assert.match(text, /Summary\s+workflow summary/);
  assert.match(text, /Details\s+workflow \*\*details\*\*/);
  assert.match(text, /Priority\s+key 2, fairness key tenant-a/);
  const json = JSON.parse(await cli(['workflow', 'describe', '--workflow-id', workflowId, '-o', 'json']));
  assert.ok(json.executionConfig.userMetadata.summary);
  assert.equal(json.workflowExecutionInfo.priority.priorityKey, 2);
});

test('signal-with-start keeps user metadata; a negative priority key is INVALID_ARGUMENT', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('gaps-meta-sws');
  const workflowId = uniqueName('gaps-meta-sws-wf');
  const handle = await suite.client.workflow.signalWithStart('infoWorkflow', {
    taskQueue,
    workflowId,
    args: [true],
    signal: 'go',
    signalArgs: [],
    staticSummary: 'sws summary',
  });
  const desc = await handle.describe();
  assert.equal(await desc.staticSummary(), 'sws summary');
  assert.equal(await desc.staticDetails(), undefined);
  await handle.terminate('done');
  await expectGrpcError(
    suite.client.workflowService.startWorkflowExecution({
      namespace: NS,
      workflowId: uniqueName('gaps-bad-priority'),
      workflowType: { name: 'infoWorkflow' },
      taskQueue: { name: taskQueue },
      requestId: uniqueName('req'),
      priority: { priorityKey: -1 },
    }),
    3,
    /priority key can't be negative/,
  );
});

test('WorkflowTaskStarted carries a growing history size and suggests continue-as-new past the count or size limit', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('gaps-can');
  const countId = uniqueName('gaps-can-count');
  const sizeId = uniqueName('gaps-can-size');
  let byCount;
  let bySize;
  await withWorker(taskQueue, async () => {
    byCount = await resultWithin(await suite.client.workflow.start('continueAsNewSuggestionWorkflow', {
      taskQueue, workflowId: countId, args: [10, 50],
    }), 25000);
    bySize = await resultWithin(await suite.client.workflow.start('continueAsNewSuggestionWorkflow', {
      taskQueue, workflowId: sizeId, args: [5000, 50],
    }), 25000);
  });
  // Count: suggested exactly from the first workflow task whose started event id reaches the limit.
  assert.equal(byCount.at(-1).suggested, true);
  for (const s of byCount) assert.equal(s.suggested, s.length >= SUGGEST_COUNT, JSON.stringify(byCount));
  for (let i = 1; i < byCount.length; i++) assert.ok(byCount[i].size > byCount[i - 1].size, JSON.stringify(byCount));
  // Size: suggested once the persisted history passes the size limit, well before the count limit.
  assert.equal(bySize.at(-1).suggested, true);
  assert.ok(bySize.at(-1).size >= SUGGEST_SIZE && bySize.at(-1).length < SUGGEST_COUNT, JSON.stringify(bySize));
  for (const s of bySize.slice(0, -1)) assert.ok(!s.suggested && s.size < SUGGEST_SIZE, JSON.stringify(bySize));
  // The events themselves: history_size_bytes grows; the reasons name the limit passed.
  const { SuggestContinueAsNewReason } = require('@temporalio/proto').temporal.api.enums.v1;
  const startedOf = async (id) => (await suite.client.workflow.getHandle(id).fetchHistory()).events
    .filter((e) => e.workflowTaskStartedEventAttributes).map((e) => e.workflowTaskStartedEventAttributes);
  const sizeStarted = await startedOf(sizeId);
  for (let i = 1; i < sizeStarted.length; i++) {
    assert.ok(Number(sizeStarted[i].historySizeBytes) > Number(sizeStarted[i - 1].historySizeBytes));
  }
  const lastSize = sizeStarted.find((a) => a.suggestContinueAsNew);
  assert.deepEqual(lastSize.suggestContinueAsNewReasons, [SuggestContinueAsNewReason.SUGGEST_CONTINUE_AS_NEW_REASON_HISTORY_SIZE_TOO_LARGE]);
  const lastCount = (await startedOf(countId)).find((a) => a.suggestContinueAsNew);
  assert.deepEqual(lastCount.suggestContinueAsNewReasons, [SuggestContinueAsNewReason.SUGGEST_CONTINUE_AS_NEW_REASON_TOO_MANY_HISTORY_EVENTS]);
});

test('update limits: in-flight updates past the limit are RESOURCE_EXHAUSTED, distinct updates past the total FAILED_PRECONDITION', { timeout: TEST_TIMEOUT }, async () => {
  const { WorkflowUpdateStage } = require('@temporalio/client');
  const taskQueue = uniqueName('gaps-upd');
  const workflowId = uniqueName('gaps-upd-wf');
  await withWorker(taskQueue, async () => {
    const handle = await suite.client.workflow.start('updateLimitWorkflow', { taskQueue, workflowId });
    const blocked = [];
    for (let i = 0; i < MAX_IN_FLIGHT; i++) {
      blocked.push(await handle.startUpdate('block', { args: [i], updateId: `block-${i}`, waitForStage: WorkflowUpdateStage.ACCEPTED }));
    }
    // The SDK retries RESOURCE_EXHAUSTED; a connection without the retry interceptor shows the answer.
    const { Connection } = require('@temporalio/client');
    const raw = await Connection.connect({ address: suite.server.address, interceptors: [] });
    try {
      await expectGrpcError(raw.workflowService.updateWorkflowExecution({
        namespace: NS,
        workflowExecution: { workflowId },
        request: { meta: { updateId: 'over-in-flight' }, input: { name: 'quick' } },
        waitPolicy: { lifecycleStage: 2 },
      }), 8, new RegExp(`limit on number of concurrent in-flight updates has been reached \\(${MAX_IN_FLIGHT}\\)`));
    } finally {
      await raw.close();
    }
    await handle.signal('release');
    assert.deepEqual(await Promise.all(blocked.map((u) => u.result())), [0, 1, 2]);
    // In flight again below the limit; the run's total counts every distinct completed update.
    for (let i = MAX_IN_FLIGHT; i < MAX_TOTAL; i++) assert.equal(await handle.executeUpdate('quick', { args: [i], updateId: `quick-${i}` }), 2 * i);
    await expectGrpcError(handle.executeUpdate('quick', { args: [9], updateId: 'over-total' }), 9,
      new RegExp(`limit on the total number of distinct updates in this workflow has been reached \\(${MAX_TOTAL}\\)`));
    // A known update id is deduplicated, not counted again.
    assert.equal(await handle.executeUpdate('quick', { args: [3], updateId: 'quick-3' }), 6);
    await handle.signal('done');
    assert.equal(await resultWithin(handle, 15000), 'done');
  });
});

test('continue-as-new is suggested with reason TOO_MANY_UPDATES from ceil(90 % of history.maxTotalUpdates) updates', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('gaps-upd-can');
  const workflowId = uniqueName('gaps-upd-can-wf');
  const threshold = Math.ceil(MAX_TOTAL * 0.9); // Temporal's history.maxTotalUpdates.suggestContinueAsNewThreshold
  const seen = [];
  await withWorker(taskQueue, async () => {
    const handle = await suite.client.workflow.start('updateSuggestionWorkflow', { taskQueue, workflowId });
    for (let i = 1; i <= MAX_TOTAL; i++) seen.push(await handle.executeUpdate('info', { updateId: `info-${i}` }));
    await expectGrpcError(handle.executeUpdate('info', { updateId: 'over-total' }), 9, /limit on the total number of distinct updates/);
    await handle.signal('done');
    assert.equal(await resultWithin(handle, 15000), true);
  });
  // The workflow sees the suggestion while handling the update that reaches the threshold.
  assert.deepEqual(seen, Array.from({ length: MAX_TOTAL }, (_, i) => i + 1 >= threshold));
  // Raw: WorkflowTaskStarted carries reason TOO_MANY_UPDATES (3) from the task delivering that update.
  const { SuggestContinueAsNewReason } = require('@temporalio/proto').temporal.api.enums.v1;
  const events = (await suite.client.workflow.getHandle(workflowId).fetchHistory()).events;
  let updates = 0; // accepted so far
  let suggestedTasks = 0;
  for (const e of events) {
    if (e.workflowExecutionUpdateAcceptedEventAttributes) updates += 1;
    const a = e.workflowTaskStartedEventAttributes;
    if (!a) continue;
    // Every task but the first and the last delivers update k: k - 1 accepted, update k admitted.
    const counted = updates < MAX_TOTAL ? updates + 1 : updates;
    if (counted >= threshold) {
      assert.equal(a.suggestContinueAsNew, true, JSON.stringify(a));
      assert.deepEqual(a.suggestContinueAsNewReasons, [SuggestContinueAsNewReason.SUGGEST_CONTINUE_AS_NEW_REASON_TOO_MANY_UPDATES]);
      suggestedTasks += 1;
    } else {
      assert.ok(!a.suggestContinueAsNew, JSON.stringify(a));
    }
  }
  assert.ok(suggestedTasks >= 2, `suggested on ${suggestedTasks} tasks`); // the 5th update's task and the signal's
});

test('an update sent during the start delay is admitted and delivered with the first workflow task', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('gaps-upd-delay');
  const workflowId = uniqueName('gaps-upd-delay-wf');
  await withWorker(taskQueue, async () => {
    const handle = await suite.client.workflow.start('updateLimitWorkflow', { taskQueue, workflowId, startDelay: '2 seconds' });
    const t0 = Date.now();
    assert.equal(await handle.executeUpdate('quick', { args: [21], updateId: 'during-delay' }), 42);
    assert.ok(Date.now() - t0 >= 1500, 'answered only once the delay was over');
    const history = await handle.fetchHistory();
    const types = history.events.map((e) => Object.keys(e).find((k) => k.endsWith('EventAttributes')));
    // The first workflow task (events 2-4) carried the update: accepted right after its completion.
    assert.deepEqual(types.slice(0, 6), [
      'workflowExecutionStartedEventAttributes', 'workflowTaskScheduledEventAttributes', 'workflowTaskStartedEventAttributes',
      'workflowTaskCompletedEventAttributes', 'workflowExecutionUpdateAcceptedEventAttributes', 'workflowExecutionUpdateCompletedEventAttributes',
    ]);
    await handle.signal('done');
    await resultWithin(handle, 15000);
  });
});

/** The MultiOperationExecutionFailure statuses of an Update-with-Start error, as [code, message]. */
function multiOpStatuses(err) {
  const proto = require('@temporalio/proto');
  let e = err;
  while (e && !(e.metadata && e.metadata.get)) e = e.cause;
  assert.ok(e, 'a gRPC error with metadata');
  const [bin] = e.metadata.get('grpc-status-details-bin');
  const st = proto.google.rpc.Status.decode(bin);
  const any = st.details.find((d) => d.type_url.endsWith('MultiOperationExecutionFailure'));
  const failure = proto.temporal.api.errordetails.v1.MultiOperationExecutionFailure.decode(any.value);
  return failure.statuses.map((s) => [s.code, s.message]);
}

test('update-with-start: a bad start or update part is INVALID_ARGUMENT with per-operation statuses', { timeout: TEST_TIMEOUT }, async () => {
  const workflowId = uniqueName('gaps-uws');
  const op = (startExtra, updateExtra) => ({
    namespace: NS,
    operations: [
      { startWorkflow: { namespace: NS, workflowId, workflowType: { name: 'updateLimitWorkflow' }, taskQueue: { name: 'gaps-uws' }, requestId: uniqueName('r'), ...startExtra } },
      { updateWorkflow: { namespace: NS, workflowExecution: { workflowId }, request: { meta: { updateId: 'u1' }, input: { name: 'quick' } }, ...updateExtra } },
    ],
  });
  const cases = [
    [{ cronSchedule: '* * * * *' }, {}, [[3, 'CronSchedule is not allowed.'], [10, 'Operation was aborted.']]],
    [{ workflowStartDelay: { seconds: 5 } }, {}, [[3, 'WorkflowStartDelay is not supported.'], [10, 'Operation was aborted.']]],
    [{}, { workflowExecution: { workflowId, runId: 'some-run' } }, [[10, 'Operation was aborted.'], [3, 'RunId is not allowed.']]],
    [{}, { workflowExecution: { workflowId: `${workflowId}-other` } }, [[10, 'Operation was aborted.'], [3, 'WorkflowId is not consistent with previous operation(s).']]],
  ];
  for (const [startExtra, updateExtra, statuses] of cases) {
    let err;
    await suite.client.workflowService.executeMultiOperation(op(startExtra, updateExtra)).catch((e) => { err = e; });
    assert.ok(err, `rejected: ${JSON.stringify([startExtra, updateExtra])}`);
    await expectGrpcError(Promise.reject(err), 3, /^3 INVALID_ARGUMENT: Update-with-Start could not be executed\.$|Update-with-Start could not be executed\./);
    assert.deepEqual(multiOpStatuses(err), statuses);
  }
  // Nothing was started by the rejected requests.
  await assert.rejects(suite.client.workflow.getHandle(workflowId).describe(), { name: 'WorkflowNotFoundError' });
});

/** Temporal's task token message (its server's token.v1.Task), decoded or encoded by field number. */
const TOKEN_FIELDS = { 1: 'namespaceId', 2: 'workflowId', 3: 'runId', 4: 'scheduledEventId', 5: 'attempt', 6: 'activityId', 7: 'workflowType', 8: 'activityType' };
function decodeTemporalToken(bytes) {
  const { Reader } = require('protobufjs/minimal');
  const r = Reader.create(bytes);
  const out = {};
  while (r.pos < r.len) {
    const tag = r.uint32();
    const name = TOKEN_FIELDS[tag >>> 3];
    if ((tag & 7) === 2 && name) out[name] = r.string();
    else if ((tag & 7) === 0 && name) out[name] = Number(r.int64());
    else r.skipType(tag & 7);
  }
  return out;
}
function encodeTemporalToken(t) {
  const { Writer } = require('protobufjs/minimal');
  const w = Writer.create();
  w.uint32((1 << 3) | 2).string(t.namespaceId);
  w.uint32((2 << 3) | 2).string(t.workflowId);
  w.uint32((3 << 3) | 2).string(t.runId);
  w.uint32((4 << 3) | 0).int64(t.scheduledEventId);
  w.uint32((5 << 3) | 0).int32(t.attempt);
  w.uint32((6 << 3) | 2).string(t.activityId);
  w.uint32((7 << 3) | 2).string(t.workflowType);
  w.uint32((8 << 3) | 2).string(t.activityType);
  return w.finish();
}

test("activity task tokens use Temporal's token encoding; a token for a missing activity or workflow is ActivityNotFoundError", { timeout: TEST_TIMEOUT }, async () => {
  const { ActivityNotFoundError } = require('@temporalio/client');
  const taskQueue = uniqueName('gaps-token');
  const workflowId = uniqueName('gaps-token-wf');
  const tokenP = new Promise((resolve) => tokenWaiters.set(workflowId, resolve));
  await withWorker(taskQueue, async () => {
    const handle = await suite.client.workflow.start('asyncActivityWorkflow', { taskQueue, workflowId });
    const token = await tokenP;
    const decoded = decodeTemporalToken(token);
    const desc = await handle.describe();
    const nsInfo = await suite.client.workflowService.describeNamespace({ namespace: NS });
    assert.deepEqual(decoded, {
      namespaceId: nsInfo.namespaceInfo.id,
      workflowId,
      runId: desc.runId,
      scheduledEventId: 5,
      attempt: 1,
      activityId: 'async-1',
      workflowType: 'asyncActivityWorkflow',
      activityType: 'asyncToken',
    });
    // Tokens built the way Temporal builds them resolve: a wrong scheduled event id or an unknown
    // run is NOT_FOUND, which the SDK reports as ActivityNotFoundError.
    await assert.rejects(suite.client.activity.complete(encodeTemporalToken({ ...decoded, scheduledEventId: 99 }), 'x'), ActivityNotFoundError);
    await assert.rejects(suite.client.activity.heartbeat(encodeTemporalToken({ ...decoded, runId: '5b4a1a48-0000-4000-8000-000000000000' })), ActivityNotFoundError);
    await assert.rejects(suite.client.activity.complete(encodeTemporalToken({ ...decoded, workflowId: 'no-such-workflow' }), 'x'), ActivityNotFoundError);
    // Garbage is still INVALID_ARGUMENT.
    await expectGrpcError(suite.client.workflowService.respondActivityTaskCompleted({ taskToken: Buffer.from('garbage'), namespace: NS }), 3);
    // The token rebuilt from its decoded fields completes the activity.
    await suite.client.activity.complete(encodeTemporalToken(decoded), 'completed from outside');
    assert.equal(await resultWithin(handle, 15000), 'completed from outside');
  });
});

test('a reset run keeps a removed search attribute removed, and keeps user metadata and priority', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('gaps-reset-sa');
  const workflowId = uniqueName('gaps-reset-sa-wf');
  await withWorker(taskQueue, async () => {
    const handle = await suite.client.workflow.start('saRemoveWorkflow', {
      taskQueue, workflowId, staticSummary: 'reset me', priority: { priorityKey: 1 },
    });
    await pollUntil(async () => 'GapsInt' in ((await handle.describe()).searchAttributes ?? {}), { timeoutMs: 15000 });
    await handle.signal('go');
    await pollUntil(async () => !('GapsInt' in ((await handle.describe()).searchAttributes ?? {})), { timeoutMs: 15000 });
    // A third task, so the removal is inside the history prefix the reset keeps.
    await handle.signal('go');
    const completedTasks = async () => (await handle.fetchHistory()).events.filter((e) => e.workflowTaskCompletedEventAttributes);
    await pollUntil(async () => (await completedTasks()).length >= 3, { timeoutMs: 15000 });
    const lastCompleted = (await completedTasks()).at(-1);
    const { runId } = await suite.client.workflowService.resetWorkflowExecution({
      namespace: NS,
      workflowExecution: { workflowId },
      reason: 'compat test',
      workflowTaskFinishEventId: lastCompleted.eventId,
      requestId: uniqueName('reset'),
    });
    const reset = suite.client.workflow.getHandle(workflowId, runId);
    const desc = await reset.describe();
    assert.equal(desc.searchAttributes.GapsInt, undefined, JSON.stringify(desc.searchAttributes));
    assert.equal(await desc.staticSummary(), 'reset me');
    assert.equal(desc.raw.workflowExecutionInfo.priority.priorityKey, 1);
    await reset.signal('go');
    assert.equal(await resultWithin(reset, 15000), 'done');
  });
});

test('the worker build id is recorded in WorkflowTaskCompleted and in the BuildIds search attribute', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('gaps-build');
  const workflowId = uniqueName('gaps-build-wf');
  const buildId = uniqueName('build');
  await withWorker(taskQueue, async () => {
    await suite.client.workflow.execute('infoWorkflow', { taskQueue, workflowId, args: [false] });
  }, { buildId });
  const handle = suite.client.workflow.getHandle(workflowId);
  const completed = (await handle.fetchHistory()).events.filter((e) => e.workflowTaskCompletedEventAttributes);
  assert.ok(completed.length >= 1);
  // This SDK sends its build id in deployment options (unversioned mode), not in a version stamp:
  // Temporal records neither then (DeploymentVersionFromOptions is nil unless VERSIONED).
  for (const e of completed) assert.equal(e.workflowTaskCompletedEventAttributes.workerVersion, null);
  // BuildIds gets Temporal's "unversioned" marker (a stamp's build id would follow as
  // "unversioned:<id>"; see the raw-gRPC check below).
  const desc = await handle.describe();
  const typed = Object.fromEntries(desc.typedSearchAttributes.getAll().map((p) => [p.key.name, p]));
  assert.equal(typed.BuildIds.key.type, 'KEYWORD_LIST');
  assert.deepEqual(typed.BuildIds.value, ['unversioned']);
  const listed = [];
  for await (const wf of suite.client.workflow.list({ query: `BuildIds = 'unversioned' AND WorkflowId = '${workflowId}'` })) listed.push(wf.workflowId);
  assert.deepEqual(listed, [workflowId]);
});

test('a version stamp sent on workflow task completion is recorded, and its build id joins BuildIds', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('gaps-stamp');
  const workflowId = uniqueName('gaps-stamp-wf');
  const svc = suite.client.workflowService;
  await svc.startWorkflowExecution({
    namespace: NS, workflowId, workflowType: { name: 'raw' }, taskQueue: { name: taskQueue }, requestId: uniqueName('r'),
  });
  const task = await svc.pollWorkflowTaskQueue({ namespace: NS, taskQueue: { name: taskQueue }, identity: 'raw-worker' });
  await svc.respondWorkflowTaskCompleted({
    namespace: NS,
    taskToken: task.taskToken,
    identity: 'raw-worker',
    workerVersionStamp: { buildId: 'stamp-b1' },
    commands: [{ commandType: 1 /* COMPLETE_WORKFLOW_EXECUTION */, completeWorkflowExecutionCommandAttributes: {} }],
  });
  const handle = suite.client.workflow.getHandle(workflowId);
  const completed = (await handle.fetchHistory()).events.find((e) => e.workflowTaskCompletedEventAttributes);
  assert.equal(completed.workflowTaskCompletedEventAttributes.workerVersion.buildId, 'stamp-b1');
  const typed = Object.fromEntries((await handle.describe()).typedSearchAttributes.getAll().map((p) => [p.key.name, p.value]));
  assert.deepEqual(typed.BuildIds, ['unversioned', 'unversioned:stamp-b1']);
});
