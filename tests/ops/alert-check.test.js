'use strict';
// temporalite alert check (the CI form of alerting): exit 1 and the runs printed when the last N
// closed runs of a type failed; one Slack post to a local webhook receiver per new streak.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');

const { Connection, Client } = require('@temporalio/client');
const { startServer, installRuntime, uniqueName } = require('../compat/harness');
const { cli, startWorker, bundle } = require('./ops');

function receiver() {
  const posts = [];
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      posts.push({ path: req.url, type: req.headers['content-type'], body: JSON.parse(body) });
      res.end('ok');
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, posts, url: `http://127.0.0.1:${srv.address().port}/hook` })));
}

test('alert check: none for one failure, exit 1 and one post for two, OK again after a success', async () => {
  installRuntime();
  const server = await startServer();
  const taskQueue = uniqueName('ops-alert');
  const worker = await startWorker(server.address, taskQueue, {}, await bundle());
  const hook = await receiver();
  const conn = await Connection.connect({ address: server.address });
  const client = new Client({ connection: conn, namespace: 'default' });
  const runOnce = async (fail) => {
    const h = await client.workflow.start('opsOutcomeWorkflow', { taskQueue, workflowId: uniqueName('outcome'), args: [fail] });
    await h.result().catch(() => {});
    return h.workflowId;
  };
  const check = (extra = []) =>
    cli(['alert', 'check', '--address', server.address, '--workflow-type', 'opsOutcomeWorkflow', '--consecutive', '2',
      '--slack-webhook', hook.url, ...extra]);
  try {
    await runOnce(false);
    const first = await runOnce(true);
    let r = await check();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /OK: opsOutcomeWorkflow has 1 consecutive failed run/);
    assert.equal(hook.posts.length, 0);

    const second = await runOnce(true);
    r = await check(['--new-within', '1m']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, new RegExp(`ALERT: the last 2 runs of opsOutcomeWorkflow failed:\\n  Failed  ${second}[\\s\\S]*Failed  ${first}`));
    assert.equal(hook.posts.length, 1);
    assert.equal(hook.posts[0].type, 'application/json');
    assert.match(hook.posts[0].body.text, /opsOutcomeWorkflow: the last 2 runs failed/);
    // Checked again later (next CI period): the same streak is not posted twice.
    await new Promise((res) => setTimeout(res, 1500));
    r = await check(['--new-within', '1s', '-o', 'json']);
    assert.equal(r.code, 1);
    assert.deepEqual(
      (({ consecutiveFailures, alert, posted }) => ({ consecutiveFailures, alert, posted }))(JSON.parse(r.stdout)),
      { consecutiveFailures: 2, alert: true, posted: false },
    );
    assert.equal(hook.posts.length, 1);

    await runOnce(false);
    r = await check();
    assert.equal(r.code, 0);
    assert.equal(hook.posts.length, 1);
  } finally {
    hook.srv.close();
    await conn.close();
    await worker.stop();
    await server.stop();
  }
});
