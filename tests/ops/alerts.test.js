'use strict';
// Server-side failure alerts (--alert-webhook, --alert-after 2) with a local webhook receiver:
// none for one failure, exactly one for two consecutive failures, also when the server is
// SIGKILLed between them; one recovery message; while the webhook is down nothing is lost and
// nothing is repeated once it is back.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');

const { Connection, Client } = require('@temporalio/client');
const { startServer, makeTempDir, removeDir, installRuntime, pollUntil, uniqueName } = require('../compat/harness');
const { startWorker, bundle } = require('./ops');

function receiver() {
  const state = { accepted: [], refused: 0, down: false };
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (state.down) {
        state.refused++;
        res.statusCode = 503;
        res.end('down');
        return;
      }
      state.accepted.push(JSON.parse(body).text);
      res.end('ok');
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, state, url: `http://127.0.0.1:${srv.address().port}/services/T/B/X` })));
}

const settle = () => new Promise((r) => setTimeout(r, 2000));

test('alerts: one per streak of two failures, across a SIGKILL, recovery, webhook down', async () => {
  installRuntime();
  const workflowBundle = await bundle();
  const hook = await receiver();
  const dataDir = makeTempDir('tl-alerts-');
  const taskQueue = uniqueName('ops-alerts');
  const args = { dataDir, extraArgs: ['--alert-webhook', hook.url, '--alert-after', '2'] };
  let server = await startServer(args);
  let worker = await startWorker(server.address, taskQueue, {}, workflowBundle);
  let conn = await Connection.connect({ address: server.address });
  let client = new Client({ connection: conn, namespace: 'default' });
  const run = async (fail) => {
    const h = await client.workflow.start('opsOutcomeWorkflow', { taskQueue, workflowId: uniqueName('outcome'), args: [fail] });
    await h.result().catch(() => {});
  };
  try {
    await run(true);
    await settle();
    assert.deepEqual(hook.state.accepted, [], 'no alert for one failure');

    // SIGKILL between the two failures.
    await worker.stop();
    await conn.close();
    await server.kill();
    server = await startServer({ ...args, port: server.port });
    worker = await startWorker(server.address, taskQueue, {}, workflowBundle);
    conn = await Connection.connect({ address: server.address });
    client = new Client({ connection: conn, namespace: 'default' });

    await run(true);
    await pollUntil(() => hook.state.accepted.length >= 1, { timeoutMs: 15000, what: 'the alert' });
    await run(true); // a third failure is the same streak
    await settle();
    assert.equal(hook.state.accepted.length, 1, hook.state.accepted.join('\n'));
    assert.match(hook.state.accepted[0], /Workflow type opsOutcomeWorkflow \(namespace default\): 2 consecutive runs failed/);

    await run(false);
    await pollUntil(() => hook.state.accepted.length >= 2, { timeoutMs: 15000, what: 'the recovery' });
    assert.match(hook.state.accepted[1], /opsOutcomeWorkflow .*recovered/);

    // The webhook is down while a new streak happens; a restart in between loses nothing.
    hook.state.down = true;
    await run(true);
    await run(true);
    await pollUntil(() => hook.state.refused >= 2, { timeoutMs: 15000, what: 'retried deliveries' });
    await worker.stop();
    await conn.close();
    await server.kill();
    server = await startServer({ ...args, port: server.port });
    await pollUntil(() => hook.state.refused >= 3, { timeoutMs: 15000, what: 'a delivery attempt after the restart' });
    hook.state.down = false;
    await pollUntil(() => hook.state.accepted.length >= 3, { timeoutMs: 30000, what: 'the delayed alert' });
    await settle();
    assert.equal(hook.state.accepted.length, 3, hook.state.accepted.join('\n'));
    assert.match(hook.state.accepted[2], /2 consecutive runs failed/);
  } finally {
    await worker.stop().catch(() => {});
    await conn.close().catch(() => {});
    await server.stop();
    hook.srv.close();
    removeDir(dataDir);
  }
});
