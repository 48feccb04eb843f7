'use strict';
// Compatibility suite: OperatorService DeleteNamespace (rename + Deleted state at once, workflows
// and then the namespace reclaimed in the background), with the SDK's raw service clients.

const assert = require('node:assert/strict');

const { Client } = require('@temporalio/client');
const { temporal } = require('@temporalio/proto');

const { pollUntil, uniqueName, grpcCode, expectGrpcError } = require('./harness');
const { TEST_TIMEOUT, setupSuite, test } = require('./suite');

const { NamespaceState } = temporal.api.enums.v1;

const suite = setupSuite();

test('DeleteNamespace: renamed and Deleted at once, its workflows and then itself reclaimed; the name is reusable', { timeout: TEST_TIMEOUT }, async () => {
  const svc = suite.connection.workflowService;
  const op = suite.connection.operatorService;
  const ns = uniqueName('ns-del');
  await svc.registerNamespace({ namespace: ns, workflowExecutionRetentionPeriod: { seconds: 86400 } });
  const client = new Client({ connection: suite.connection, namespace: ns });
  // One running workflow (nobody polls its queue) and one closed one.
  await client.workflow.start('anything', { taskQueue: 'nobody', workflowId: 'running-one' });
  const closed = await client.workflow.start('anything', { taskQueue: 'nobody', workflowId: 'closed-one' });
  await closed.terminate('closing it');

  const { id } = (await svc.describeNamespace({ namespace: ns })).namespaceInfo;
  const resp = await op.deleteNamespace({ namespace: ns });
  assert.equal(resp.deletedNamespace, `${ns}-deleted-${id.slice(0, 5)}`);
  // The old name is gone immediately; the renamed one describes as Deleted until reclaimed.
  await expectGrpcError(svc.describeNamespace({ namespace: ns }), 5);
  await assert.rejects(client.workflow.start('anything', { taskQueue: 'nobody', workflowId: 'late' }), { name: 'NamespaceNotFoundError' });
  const listed = await svc.listNamespaces({});
  assert.ok(!listed.namespaces.some((n) => n.namespaceInfo.name.startsWith(ns)), 'deleted namespaces are not listed');
  // Reclaimed in the background: the renamed namespace disappears once its workflows are deleted.
  await pollUntil(async () => {
    try {
      const d = await svc.describeNamespace({ namespace: resp.deletedNamespace });
      assert.equal(d.namespaceInfo.state, NamespaceState.NAMESPACE_STATE_DELETED);
      return false;
    } catch (e) {
      if (grpcCode(e) === 5) return true;
      throw e;
    }
  }, { timeoutMs: 20000, what: 'namespace reclaimed' });

  // The name is free again, and the new namespace has none of the old workflows.
  await svc.registerNamespace({ namespace: ns, workflowExecutionRetentionPeriod: { seconds: 86400 } });
  const fresh = await svc.describeNamespace({ namespace: ns });
  assert.notEqual(fresh.namespaceInfo.id, id);
  assert.equal(Number((await svc.countWorkflowExecutions({ namespace: ns })).count), 0);
  await assert.rejects(client.workflow.getHandle('running-one').describe(), { name: 'WorkflowNotFoundError' });
  await op.deleteNamespace({ namespace: ns });
});

test('DeleteNamespace errors', { timeout: TEST_TIMEOUT }, async () => {
  const op = suite.connection.operatorService;
  await expectGrpcError(op.deleteNamespace({ namespace: 'no-such-namespace' }), 3, /^namespace no-such-namespace is not found$/);
  await expectGrpcError(op.deleteNamespace({}), 3, /Namespace not set on request/);
  await expectGrpcError(op.deleteNamespace({ namespace: 'temporal-system' }), 9, /unable to delete system namespace/);
});
