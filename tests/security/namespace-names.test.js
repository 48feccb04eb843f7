'use strict';
// Namespace names through the SDK's gRPC client, the CLI and the server's --namespace flag:
// Temporal's RegisterNamespace answers (INVALID_ARGUMENT "Namespace is not set on request." /
// "Namespace length exceeds limit.") and this server's rule against control characters; and a
// client-provided string with a newline (a worker's protocol message id) stays on one log line.
//
// Run: tests/run-node-tests.sh tests/security/namespace-names.test.js

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');

const { Connection } = require('@temporalio/client');
const proto = require('@temporalio/proto');

const { startServer, serverBinary, pollUntil, uniqueName } = require('../compat/harness');
const { request } = require('../http/http');

const INVALID_ARGUMENT = 3;

function run(args) {
  return new Promise((resolve) => {
    execFile(serverBinary(), args, { timeout: 30000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

test('RegisterNamespace refuses empty, too long and control-character names with INVALID_ARGUMENT; the CLI and --namespace too', async () => {
  const server = await startServer({ ephemeral: true });
  const conn = await Connection.connect({ address: server.address, interceptors: [] });
  try {
    const register = (namespace) => conn.workflowService.registerNamespace({ namespace,
      workflowExecutionRetentionPeriod: { seconds: 86400 } }).then(() => null, (e) => e);
    for (const [name, message] of [
      ['', /^Namespace is not set on request\.$/],
      ['a'.repeat(1001), /^Namespace length exceeds limit\.$/]]) {
      const e = await register(name);
      assert.ok(e, `${JSON.stringify(name)} was registered`);
      assert.equal(e.code, INVALID_ARGUMENT, e.message);
      assert.match(e.details, message);
    }
    // The TS SDK's client puts the namespace in a gRPC header too, where grpc-js refuses control
    // characters before sending: these go through the HTTP API (the same RegisterNamespace).
    for (const [name, message] of [
      ['evil\nlevel=error msg=forged', /^Namespace name contains control character U\+000A at byte 4\.$/],
      ['tab\there', /U\+0009/], ['esc\x1b[31m', /U\+001B/], ['del\x7f', /U\+007F/],
      ['c1\u0085', /^Namespace name contains control character U\+0085 at byte 2\.$/]]) {
      const res = await request('POST', `${server.httpUrl()}/api/v1/namespaces`,
        { body: { namespace: name, workflowExecutionRetentionPeriod: '86400s' } });
      assert.equal(res.status, 400, `${JSON.stringify(name)}: HTTP ${res.status} ${res.text}`);
      assert.equal(res.json.code, INVALID_ARGUMENT, res.text);
      assert.match(res.json.message, message);
    }
    const list = await conn.workflowService.listNamespaces({ pageSize: 100 });
    const names = list.namespaces.map((n) => n.namespaceInfo.name);
    assert.ok(!names.some((n) => /[\x00-\x1f\x7f]/.test(n)), JSON.stringify(names));
    // Other names are fine, UTF-8 too (over HTTP: grpc-js headers are ASCII).
    const good = `${uniqueName('ns')}.dots_and-dashes`;
    assert.equal(await register(good), null);
    const d = await conn.workflowService.describeNamespace({ namespace: good });
    assert.equal(d.namespaceInfo.name, good);
    const utf8 = `${uniqueName('ns')}-名前-über`;
    const res = await request('POST', `${server.httpUrl()}/api/v1/namespaces`,
      { body: { namespace: utf8, workflowExecutionRetentionPeriod: '86400s' } });
    assert.equal(res.status, 200, res.text);

    // The CLI: the server's answer, the name escaped in its message.
    const r = await run(['operator', 'namespace', 'create', '--address', server.address, '-n', 'cli\nforged']);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /namespace "cli\\nforged": Namespace name contains control character U\+000A at byte 3\./);
    assert.doesNotMatch(r.stderr, /assertion failed|Illegal header value/); // grpc aborted the CLI before
  } finally {
    await conn.close();
    await server.stop();
  }
  // The server's --namespace flag: a clear error, exit 2.
  const r = await run(['server', 'start-dev', '--ephemeral', '--port', '0', '--headless', '--http-port', '0', '-n', 'x\ny']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error: --namespace "x\\ny": Namespace name contains control character U\+000A at byte 1\./);
});

test('a client string with a newline stays on its log line (escaped)', async () => {
  const server = await startServer({ ephemeral: true, logLevel: 'warn' });
  const conn = await Connection.connect({ address: server.address, interceptors: [] });
  try {
    const taskQueue = uniqueName('ns-log');
    await conn.workflowService.startWorkflowExecution({ namespace: 'default', workflowId: uniqueName('ns-log-wf'),
      workflowType: { name: 'w' }, taskQueue: { name: taskQueue }, requestId: uniqueName('req') });
    const task = await conn.withDeadline(Date.now() + 20000, () =>
      conn.workflowService.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, identity: 'ns-log' }));
    assert.ok(task.taskToken && task.taskToken.length > 0);
    // A protocol message for an update the server does not know: logged with its ids.
    const body = { type_url: 'type.googleapis.com/temporal.api.update.v1.Rejection',
      value: proto.temporal.api.update.v1.Rejection.encode({}).finish() };
    await conn.workflowService.respondWorkflowTaskCompleted({ namespace: 'default', taskToken: task.taskToken, identity: 'ns-log',
      messages: [{ id: 'm\nlevel=error msg=forged', protocolInstanceId: 'u\rx', body }] }).catch(() => {});
    const line = await pollUntil(() => server.stderr().split('\n').find((l) => l.includes('protocol message')),
      { timeoutMs: 10000, what: 'the log line' });
    assert.match(line, /protocol message m\\nlevel=error msg=forged for unknown update u\\rx ignored$/);
    assert.ok(!/^level=error msg=forged/m.test(server.stderr()), server.stderr());
  } finally {
    await conn.close();
    await server.stop();
  }
});
