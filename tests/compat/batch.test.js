'use strict';
// Compatibility suite: batch operations (StartBatchOperation, DescribeBatchOperation,
// ListBatchOperations, StopBatchOperation) through the SDK's raw WorkflowService client, as the
// `temporal` CLI uses them for `workflow terminate|cancel|signal|delete --query`.

const assert = require('node:assert/strict');

const { Connection } = require('@temporalio/client');
const { temporal } = require('@temporalio/proto');

const { pollUntil, uniqueName, expectGrpcError } = require('./harness');
const { TEST_TIMEOUT, NS, setupSuite, test } = require('./suite');

const { BatchOperationState, BatchOperationType } = temporal.api.enums.v1;

const suite = setupSuite();
const { withWorker, terminateQuietly } = suite;

const svc = () => suite.client.workflowService;

async function waitForJob(jobId, state = BatchOperationState.BATCH_OPERATION_STATE_COMPLETED) {
  let d;
  await pollUntil(async () => {
    d = await svc().describeBatchOperation({ namespace: NS, jobId });
    return d.state === state;
  }, { timeoutMs: 30000, what: `batch ${jobId} state ${state}` });
  return d;
}

/** Starts `n` workflows of a fresh type on a queue nobody polls: they stay Running. */
async function startIdle(n, prefix) {
  const type = uniqueName(prefix);
  const ids = [];
  for (let i = 0; i < n; i++) {
    const id = `${type}-${i}`;
    await suite.client.workflow.start(type, { taskQueue: `idle-${type}`, workflowId: id });
    ids.push(id);
  }
  return { type, ids };
}

async function statusOf(id) {
  return (await suite.client.workflow.getHandle(id).describe()).status.name;
}

test('terminate by query: every matching running workflow is terminated, at the requested rate', { timeout: TEST_TIMEOUT }, async () => {
  const { type, ids } = await startIdle(5, 'batchTerm');
  const jobId = uniqueName('job-term');
  const started = Date.now();
  await svc().startBatchOperation({
    namespace: NS, jobId, reason: 'batch test', visibilityQuery: `WorkflowType = '${type}'`,
    maxOperationsPerSecond: 2, terminationOperation: { identity: 'batch-tester' },
  });
  const d = await waitForJob(jobId);
  // 5 operations at 2/s take at least two chunk intervals.
  assert.ok(Date.now() - started >= 1500, `finished in ${Date.now() - started} ms`);
  assert.equal(d.operationType, BatchOperationType.BATCH_OPERATION_TYPE_TERMINATE);
  assert.equal(Number(d.totalOperationCount), 5);
  assert.equal(Number(d.completeOperationCount), 5);
  assert.equal(Number(d.failureOperationCount), 0);
  assert.equal(d.reason, 'batch test');
  assert.equal(d.identity, 'batch-tester');
  assert.equal(d.query, `WorkflowType = '${type}'`);
  assert.ok(d.closeTime);
  for (const id of ids) {
    assert.equal(await statusOf(id), 'TERMINATED');
    const { events } = await suite.client.workflow.getHandle(id).fetchHistory();
    const last = events[events.length - 1];
    assert.equal(last.workflowExecutionTerminatedEventAttributes.reason, 'batch test');
  }
  const list = await svc().listBatchOperations({ namespace: NS });
  const info = list.operationInfo.find((o) => o.jobId === jobId);
  assert.ok(info, 'job listed');
  assert.equal(info.state, BatchOperationState.BATCH_OPERATION_STATE_COMPLETED);
  // Already-closed workflows are not selected again: a second job over the same query finds none.
  const again = uniqueName('job-term-again');
  await svc().startBatchOperation({ namespace: NS, jobId: again, reason: 'again', visibilityQuery: `WorkflowType = '${type}'`, terminationOperation: {} });
  const d2 = await waitForJob(again);
  assert.equal(Number(d2.totalOperationCount), 0);
  assert.equal(Number(d2.completeOperationCount), 0);
});

test('signal by execution list: each workflow gets the signal exactly once and completes', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('batch-signal');
  const ids = [];
  await withWorker(taskQueue, async () => {
    const handles = [];
    for (let i = 0; i < 3; i++) {
      const id = `${taskQueue}-${i}`;
      ids.push(id);
      handles.push(await suite.client.workflow.start('waitForSignalWorkflow', { taskQueue, workflowId: id }));
    }
    const jobId = uniqueName('job-signal');
    await svc().startBatchOperation({
      namespace: NS, jobId, reason: 'finish them', executions: ids.map((workflowId) => ({ workflowId })),
      signalOperation: { signal: 'continue', identity: 'batch-tester', input: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"go"') }] } },
    });
    const d = await waitForJob(jobId);
    assert.equal(Number(d.totalOperationCount), 3);
    assert.equal(Number(d.completeOperationCount), 3);
    assert.deepEqual(d.executions.map((e) => e.businessId), ids);
    for (const h of handles) assert.equal(await h.result(), 'go');
    for (const id of ids) {
      const { events } = await suite.client.workflow.getHandle(id).fetchHistory();
      assert.equal(events.filter((e) => e.workflowExecutionSignaledEventAttributes).length, 1);
    }
  });
});

test('cancel by query, then delete the closed ones by query', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('batch-cancel');
  const ids = [];
  await withWorker(taskQueue, async () => {
    const handles = [];
    for (let i = 0; i < 3; i++) {
      const id = `${taskQueue}-${i}`;
      ids.push(id);
      handles.push(await suite.client.workflow.start('waitForSignalWorkflow', { taskQueue, workflowId: id }));
    }
    const cancelJob = uniqueName('job-cancel');
    await svc().startBatchOperation({ namespace: NS, jobId: cancelJob, reason: 'stop', visibilityQuery: `TaskQueue = '${taskQueue}'`, cancellationOperation: {} });
    await waitForJob(cancelJob);
    for (const h of handles) await assert.rejects(h.result(), /cancel/i);
    for (const id of ids) assert.equal(await statusOf(id), 'CANCELLED');
  });
  const deleteJob = uniqueName('job-delete');
  await svc().startBatchOperation({ namespace: NS, jobId: deleteJob, reason: 'clean up', visibilityQuery: `TaskQueue = '${taskQueue}'`, deletionOperation: {} });
  const d = await waitForJob(deleteJob);
  assert.equal(Number(d.completeOperationCount), 3);
  for (const id of ids) await assert.rejects(suite.client.workflow.getHandle(id).describe(), { name: 'WorkflowNotFoundError' });
});

test('bad requests, duplicate job ids, one running job per namespace, stop', { timeout: TEST_TIMEOUT }, async () => {
  const base = { namespace: NS, reason: 'r', visibilityQuery: "WorkflowType = 'nothing'", terminationOperation: {} };
  await expectGrpcError(svc().startBatchOperation({ ...base, jobId: '' }), 3, /^JobId is not set on request\.$/);
  await expectGrpcError(svc().startBatchOperation({ ...base, jobId: 'x', reason: '' }), 3, /must provide required parameters/);
  await expectGrpcError(svc().startBatchOperation({ ...base, jobId: 'x', visibilityQuery: '' }), 3, /must provide required parameters/);
  await expectGrpcError(svc().startBatchOperation({ ...base, jobId: 'x', executions: [{ workflowId: 'a' }] }), 3, /mutually exclusive/);
  await expectGrpcError(svc().startBatchOperation({ ...base, jobId: 'x', visibilityQuery: 'Bogus = 1' }), 3, /Bogus/);
  await expectGrpcError(svc().startBatchOperation({ ...base, jobId: 'x', visibilityQuery: "WorkflowType = 'a' ORDER BY StartTime" }), 3, /ORDER BY/);
  await expectGrpcError(svc().startBatchOperation({ ...base, jobId: 'x', terminationOperation: undefined, signalOperation: { signal: '' } }), 3, /SignalName/);
  await expectGrpcError(svc().startBatchOperation({ ...base, jobId: 'x', namespace: 'no-such-ns' }), 5);
  await expectGrpcError(svc().describeBatchOperation({ namespace: NS, jobId: 'no-such-job' }), 5);

  // A slow job (20 targets at 1/s) is running: a second one is refused, the same id is a duplicate.
  const { type, ids } = await startIdle(20, 'batchSlow');
  const slow = uniqueName('job-slow');
  await svc().startBatchOperation({ ...base, jobId: slow, visibilityQuery: `WorkflowType = '${type}'`, maxOperationsPerSecond: 1 });
  // The SDK retries RESOURCE_EXHAUSTED by default; a connection without interceptors shows it.
  const raw = await Connection.connect({ address: suite.server.address, interceptors: [] });
  try {
    await expectGrpcError(raw.workflowService.startBatchOperation({ ...base, jobId: uniqueName('job-second') }), 8, /^Max concurrent batch operations is reached$/);
  } finally {
    await raw.close();
  }
  await expectGrpcError(svc().startBatchOperation({ ...base, jobId: slow }), 6);
  // Stop: the job ends FAILED (Temporal terminates its batch workflow) and does no more.
  await svc().stopBatchOperation({ namespace: NS, jobId: slow, reason: 'enough', identity: 'tester' });
  const d = await waitForJob(slow, BatchOperationState.BATCH_OPERATION_STATE_FAILED);
  await expectGrpcError(svc().stopBatchOperation({ namespace: NS, jobId: slow, reason: 'again' }), 9);
  await new Promise((r) => setTimeout(r, 1500));  // longer than one chunk interval at 1/s
  const after = await svc().describeBatchOperation({ namespace: NS, jobId: slow });
  assert.equal(Number(after.completeOperationCount), Number(d.completeOperationCount));
  assert.ok(Number(after.completeOperationCount) < 20);
  let running = 0;
  for (const id of ids) running += (await statusOf(id)) === 'RUNNING';
  assert.equal(running, 20 - Number(after.completeOperationCount));
  for (const id of ids) await terminateQuietly(suite.client.workflow.getHandle(id));
});

test('reset by query and by execution list: each run is reset once, the worker runs the new runs', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('batch-reset');
  const ids = [];
  const firstRuns = new Map();
  const countRuns = async (id) => Number((await svc().countWorkflowExecutions({ namespace: NS, query: `WorkflowId = '${id}'` })).count);
  await withWorker(taskQueue, async () => {
    for (let i = 0; i < 3; i++) {
      const id = `${taskQueue}-${i}`;
      ids.push(id);
      const h = await suite.client.workflow.start('waitForSignalWorkflow', { taskQueue, workflowId: id });
      firstRuns.set(id, h.firstExecutionRunId);
    }
    // Wait for each first workflow task to complete: that is the reset point.
    for (const id of ids) {
      await pollUntil(async () => {
        const { events } = await suite.client.workflow.getHandle(id).fetchHistory();
        return events.some((e) => e.workflowTaskCompletedEventAttributes);
      }, { timeoutMs: 20000, what: `${id}'s first workflow task` });
    }
    // As the UI sends it: the new `options` and the deprecated `resetType`.
    const jobId = uniqueName('job-reset');
    await svc().startBatchOperation({
      namespace: NS, jobId, reason: 'redeploy', visibilityQuery: `TaskQueue = '${taskQueue}'`, maxOperationsPerSecond: 2,
      resetOperation: { identity: 'batch-tester', options: { firstWorkflowTask: {} }, resetType: temporal.api.enums.v1.ResetType.RESET_TYPE_FIRST_WORKFLOW_TASK },
    });
    const d = await waitForJob(jobId);
    assert.equal(d.operationType, BatchOperationType.BATCH_OPERATION_TYPE_RESET);
    assert.equal(Number(d.totalOperationCount), 3);
    assert.equal(Number(d.completeOperationCount), 3);
    assert.equal(Number(d.failureOperationCount), 0);
    for (const id of ids) {
      assert.equal(await countRuns(id), 2, `${id} reset exactly once`);
      const old = await suite.client.workflow.getHandle(id, firstRuns.get(id)).describe();
      assert.equal(old.status.name, 'TERMINATED');
      const cur = await suite.client.workflow.getHandle(id).describe();
      assert.notEqual(cur.runId, firstRuns.get(id));
      assert.equal(cur.status.name, 'RUNNING');
      const { events } = await suite.client.workflow.getHandle(id).fetchHistory();
      const failed = events.find((e) => e.workflowTaskFailedEventAttributes);
      assert.equal(failed.workflowTaskFailedEventAttributes.baseRunId, firstRuns.get(id));
      assert.equal(failed.workflowTaskFailedEventAttributes.failure.message, 'redeploy');
    }
    // By execution list, to the last workflow task (deprecated reset type only): one more run.
    const listJob = uniqueName('job-reset-list');
    await svc().startBatchOperation({
      namespace: NS, jobId: listJob, reason: 'again', executions: [{ workflowId: ids[0] }, { workflowId: `${taskQueue}-missing` }],
      resetOperation: { resetType: temporal.api.enums.v1.ResetType.RESET_TYPE_LAST_WORKFLOW_TASK },
    });
    const d2 = await waitForJob(listJob);
    // A missing workflow: Temporal's batcher cannot read its history to find the last task (a
    // plain error, not NotFound), retries 50 times, then counts it as a failure.
    assert.equal(Number(d2.completeOperationCount), 1);
    assert.equal(Number(d2.failureOperationCount), 1);
    assert.equal(await countRuns(ids[0]), 3);
    // The worker runs the reset runs: a signal completes each.
    for (const id of ids) {
      await suite.client.workflow.getHandle(id).signal('continue', 'go');
      assert.equal(await suite.client.workflow.getHandle(id).result(), 'go');
    }
  });
  await expectGrpcError(svc().startBatchOperation({ namespace: NS, jobId: 'x', reason: 'r', executions: [{ workflowId: 'a' }], resetOperation: { options: {} } }), 3, /batch reset missing target/);
  await expectGrpcError(svc().startBatchOperation({ namespace: NS, jobId: 'x', reason: 'r', executions: [{ workflowId: 'a' }], resetOperation: {} }), 3, /unknown batch reset type/);
  await expectGrpcError(svc().startBatchOperation({ namespace: NS, jobId: 'x', reason: 'r', executions: [{ workflowId: 'a' }], resetOperation: { options: { buildId: 'b' } } }), 12, /build id/);
});
