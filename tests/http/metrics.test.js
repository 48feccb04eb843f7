'use strict';
// /metrics on --metrics-port scraped by a real Prometheus (Debian's `prometheus`, started here on
// a temp dir and a free port): a PromQL query returns this test's workflow_success count.
// `promtool check metrics` lints the exposition; `promtool check rules` the shipped alert rules.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const { setupSuite } = require('../compat/suite');
const { pollUntil, makeTempDir, removeDir } = require('../compat/harness');
const { request } = require('./http');

const suite = setupSuite({ serverOptions: { extraArgs: ['--metrics-port', '0'] } });
const REPO = path.resolve(__dirname, '..', '..');
const TQ = 'metrics-tq';
const RUNS = 3;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

test('Prometheus scrapes /metrics and PromQL returns the workflow_success count', { timeout: 120000 }, async (t) => {
  assert.ok(which('prometheus') && which('promtool'), 'prometheus and promtool are installed (scripts/deps.sh)');
  const metricsUrl = suite.server.metricsUrl();
  assert.ok(metricsUrl, 'the server prints its Metrics line');

  // Workflows that complete: the signal collector returns at once when it expects 0 items.
  await suite.withWorker(TQ, async () => {
    for (let i = 0; i < RUNS; i++) {
      await suite.client.workflow.execute('msgSignalCollectorWorkflow', { taskQueue: TQ, workflowId: `metrics-${i}`, args: [0] });
    }
  });
  // One failure too, by terminate: counted apart.
  const h = await suite.client.workflow.start('msgSignalCollectorWorkflow', { taskQueue: 'metrics-idle', workflowId: 'metrics-term', args: [1] });
  await h.terminate('metrics test');

  const text = (await request('GET', metricsUrl)).text;
  assert.match(text, /^workflow_success_total\{namespace="default",workflow_type="msgSignalCollectorWorkflow"\} 3$/m);
  assert.match(text, /^workflow_terminate_total\{namespace="default",workflow_type="msgSignalCollectorWorkflow"\} 1$/m);
  assert.match(text, /^service_requests_total\{operation="StartWorkflowExecution"\} [1-9]/m);
  assert.match(text, /^service_latency_bucket\{operation="RespondWorkflowTaskCompleted",le="\+Inf"\} [1-9]/m);
  assert.match(text, /^poll_success_total\{namespace="default",operation="PollWorkflowTaskQueue",taskqueue="metrics-tq"\} [1-9]/m);
  assert.match(text, /^temporalite_group_commit_batches_count [1-9]/m);
  assert.match(text, /^temporalite_fsync_latency_seconds_bucket\{le="\+Inf"\} [1-9]/m);
  assert.match(text, /^persistence_requests_total\{operation="Commit"\} [1-9]/m);
  assert.match(text, /^temporalite_database_size_bytes [1-9]/m);
  assert.match(text, /^temporalite_open_workflows 0$/m);

  await t.test('promtool check metrics', () => {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
  });

  const dir = makeTempDir('temporalite-prom-');
  const port = await freePort();
  const target = new URL(metricsUrl).host;
  fs.writeFileSync(path.join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: temporalite\n    static_configs:\n      - targets: ['${target}']\n`);
  const prom = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let promErr = '';
  prom.stderr.on('data', (c) => { promErr = (promErr + c).slice(-8000); });
  try {
    const q = encodeURIComponent('sum(workflow_success_total{namespace="default",workflow_type="msgSignalCollectorWorkflow"})');
    const value = await pollUntil(async () => {
      const r = await request('GET', `http://127.0.0.1:${port}/api/v1/query?query=${q}`, { timeoutMs: 3000 }).catch(() => undefined);
      const v = r?.json?.data?.result?.[0]?.value?.[1];
      return v === undefined ? undefined : v;
    }, { timeoutMs: 60000, intervalMs: 500, what: `Prometheus answering the query (stderr: ${promErr.slice(-500)})` });
    assert.equal(Number(value), RUNS);
  } finally {
    prom.kill('SIGTERM');
    await new Promise((resolve) => { if (prom.exitCode !== null) resolve(); else prom.once('exit', resolve); });
    removeDir(dir);
  }
});

test('promtool check rules: deploy/prometheus/rules.yml', () => {
  const r = spawnSync('promtool', ['check', 'rules', path.join(REPO, 'deploy/prometheus/rules.yml')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /SUCCESS: [1-9]\d* rules found/);
});

test('the Grafana dashboard is valid JSON whose queries name exposed metrics', () => {
  const dash = JSON.parse(fs.readFileSync(path.join(REPO, 'deploy/grafana/temporalite.json'), 'utf8'));
  const exprs = dash.panels.flatMap((p) => (p.targets || []).map((x) => x.expr));
  assert.ok(exprs.length >= 6);
  const known = /workflow_(success|failed|timeout|terminate|cancel|continued_as_new)_total|temporalite_activity_(attempts|retries|failures)_total|schedule_\w+_total|approximate_backlog|poll_(success|timeouts)_total|service_(requests|errors)_total|service_latency_bucket|temporalite_\w+|persistence_\w+/;
  for (const e of exprs) assert.match(e, known, e);
});

test('an HTTP long poll whose client hangs up ends at once (thread, slot and engine waiter freed), as does a cancelled gRPC one, and the next one still answers', { timeout: 60000 }, async () => {
  const httpUrl = suite.server.httpUrl().replace(/\/$/, '');
  const metricsUrl = suite.server.metricsUrl();
  const waiting = async () => {
    const m = /^temporalite_http_long_polls (\S+)$/m.exec((await request('GET', metricsUrl)).text);
    return m ? Number(m[1]) : 0;
  };
  const historyWaiters = async () => {
    const m = /^temporalite_history_long_polls (\S+)$/m.exec((await request('GET', metricsUrl)).text);
    return m ? Number(m[1]) : NaN;
  };
  // No worker polls this queue: the history gets no new event until the signal below.
  const wid = `long-poll-gone-${Date.now()}`;
  await suite.client.workflow.start('msgSignalCollectorWorkflow', { taskQueue: 'long-poll-idle', workflowId: wid, args: [1] });
  const p = `/api/v1/namespaces/default/workflows/${encodeURIComponent(wid)}/history`;
  const head = (await request('GET', `${httpUrl}${p}?waitNewEvent=true`)).json;
  assert.ok(head.nextPageToken, 'a running workflow returns a continuation token');
  const pollPath = `${p}?waitNewEvent=true&nextPageToken=${encodeURIComponent(head.nextPageToken)}`;
  const { port } = new URL(httpUrl);
  const N = 5;
  const sockets = [];
  for (let i = 0; i < N; i++) {
    const s = net.connect(Number(port), '127.0.0.1');
    s.on('error', () => {});
    s.write(`GET ${pollPath} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    sockets.push(s);
  }
  await pollUntil(async () => (await waiting()) === N, { timeoutMs: 15000, what: `${N} long polls waiting` });
  await pollUntil(async () => (await historyWaiters()) === N, { timeoutMs: 15000, what: `${N} engine history waiters` });
  const closed = Date.now();
  for (const s of sockets) s.destroy();
  // Before, each waited for its 60 s deadline: the thread, the slot (of 512) and the gauge with it.
  await pollUntil(async () => (await waiting()) === 0, { timeoutMs: 15000, intervalMs: 100, what: 'the long polls ended' });
  assert.ok(Date.now() - closed < 5000, `ended ${Date.now() - closed} ms after the clients left`);
  // And the engine dropped their waiters then, not at the run's next commit or 60 s later.
  await pollUntil(async () => (await historyWaiters()) === 0, { timeoutMs: 15000, intervalMs: 100, what: 'the engine waiters dropped' });
  assert.ok(Date.now() - closed < 5000, `waiters dropped ${Date.now() - closed} ms after the clients left`);

  // The same for a gRPC client that cancels its call (the TypeScript SDK's connection, aborted).
  const abort = new AbortController();
  const grpcPoll = suite.client.connection.withAbortSignal(abort.signal, () =>
    suite.client.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId: wid },
      waitNewEvent: true,
      nextPageToken: Buffer.from(head.nextPageToken, 'base64'),
    }));
  grpcPoll.catch(() => {});
  await pollUntil(async () => (await historyWaiters()) === 1, { timeoutMs: 15000, what: 'the gRPC long poll waiting' });
  const cancelled = Date.now();
  abort.abort();
  await assert.rejects(grpcPoll);
  await pollUntil(async () => (await historyWaiters()) === 0, { timeoutMs: 15000, intervalMs: 100, what: 'the gRPC poll\'s waiter dropped' });
  assert.ok(Date.now() - cancelled < 5000, `waiter dropped ${Date.now() - cancelled} ms after the cancel`);
  // A long poll from a client that stays gets the next event.
  const poll = request('GET', `${httpUrl}${pollPath}`, { timeoutMs: 30000 });
  await pollUntil(async () => (await waiting()) === 1, { timeoutMs: 15000, what: 'one long poll waiting' });
  await suite.client.workflow.getHandle(wid).signal('item', 'x');
  const res = await poll;
  assert.equal(res.status, 200, res.text);
  assert.ok(res.json.history.events.some((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'), res.text);
  await suite.client.workflow.getHandle(wid).terminate('done');
});
