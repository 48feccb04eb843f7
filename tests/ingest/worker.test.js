'use strict';
// The checkers-ingestion worker service (C++ SDK) against the real server, a real PostgreSQL (own
// cluster), the real npm pg-boss (pinned) and the fixture retailer:
//  - the runbook sequence through its pnpm lines: worker up, trigger, completes, rows in
//    retailer_item_price, price changes published to pg-boss (dashboard), schedule created with
//    the phrase and listed, `list --status running` empty, Ctrl+C/SIGTERM stops the worker cleanly;
//  - a job sent by Node pg-boss starts CheckersIngestionWorkflow (workflow id from the job) and is
//    completed with the run summary, or failed with the reason;
//  - the worker SIGKILLed mid-run and restarted, and PostgreSQL restarted mid-run: the run
//    completes, exactly one row per item;
//  - missing / malformed settings stop the worker at start, naming the variable.
//
// Run: tests/run-node-tests.sh tests/ingest/worker.test.js

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const PgBoss = require('pg-boss');

const { startServer } = require('../compat/harness');
const { startPostgres, freePort } = require('../../infra/orchestration/scripts/local-postgres.cjs');
const { REPO_ROOT, BUILD, INGEST_BIN, startFixture, run } = require('./fixture');

const PKG = path.join(REPO_ROOT, 'infra', 'orchestration');
const PNPM = path.join(REPO_ROOT, 'node_modules', '.bin', 'pnpm');
const TEMPORALITE = process.env.TEMPORALITE_BIN || path.join(BUILD, 'temporalite');
const STORES = { 'sixty60-jhb': 1200, 'sixty60-cpt': 2500 };
const SETTINGS = ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'DATABASE_URL', 'PG_BOSS_QUEUE', 'PG_BOSS_PRICE_QUEUE',
  'SIXTY60_BASE_URL', 'SIXTY60_CLIENT_ID', 'SIXTY60_CLIENT_SECRET', 'INGEST_PAGE_SIZE', 'INGEST_CONCURRENCY', 'HTTP_TIMEOUT_MS'];

let server;
let pg;
let fixture;
let tmp;
const workers = new Set();

/** The settings a worker gets (the test's environment minus any of these, plus these). */
function env(extra = {}) {
  const base = {};
  for (const [k, v] of Object.entries(process.env)) if (!SETTINGS.includes(k)) base[k] = v;
  return {
    ...base,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: 'default',
    DATABASE_URL: pg.url(),
    PG_BOSS_QUEUE: 'checkers-ingestion-requests',
    PG_BOSS_PRICE_QUEUE: 'price-changes',
    SIXTY60_BASE_URL: fixture.url,
    SIXTY60_CLIENT_ID: 'tillless',
    SIXTY60_CLIENT_SECRET: 'fixture-secret',
    INGEST_PAGE_SIZE: '100',
    HTTP_TIMEOUT_MS: '2000',
    npm_config_update_notifier: 'false',
    ...extra,
  };
}

/** Runs `pnpm --silent ARGS` in infra/orchestration (the runbook's lines). */
function pnpm(args, extraEnv = {}, timeoutMs = 120000) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    require('node:child_process').execFile(PNPM, ['--silent', ...args], { cwd: PKG, env: env(extraEnv), timeout: timeoutMs, maxBuffer: 64 << 20, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        let code = 0;
        if (err) code = err.killed ? 'timeout' : typeof err.code === 'number' ? err.code : String(err.code);
        if (process.env.TIMING) console.error(`# pnpm ${args.slice(0, 2).join(' ')}: ${Date.now() - t0} ms`);
        resolve({ code, stdout, stderr });
      });
  });
}

async function ok(args, extraEnv) {
  const r = await pnpm(args, extraEnv);
  assert.equal(r.code, 0, `pnpm ${args.join(' ')} failed (${r.code})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r.stdout;
}

/**
 * `pnpm temporal:worker --worker checkers-ingestion` in its own process group (as a terminal runs
 * it); resolves once the worker polls. `pid` is the C++ worker's own pid (from its ready line).
 */
async function startWorker(extraEnv = {}) {
  const proc = spawn(PNPM, ['--silent', 'temporal:worker', '--worker', 'checkers-ingestion'],
    { cwd: PKG, env: env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  proc.unref();
  proc.stdout.unref();
  proc.stderr.unref();
  const w = { proc, log: '', pid: 0 };
  w.exited = new Promise((resolve) => proc.once('exit', (code, signal) => {
    workers.delete(w);
    resolve({ code, signal });
  }));
  workers.add(w);
  proc.stdout.on('data', (c) => { w.log += c; });
  proc.stderr.on('data', (c) => { w.log += c; });
  w.pid = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`worker did not start:\n${w.log}`)), 30000);
    const check = () => {
      const m = /worker: pid (\d+) polling task queue checkers-ingestion/.exec(w.log);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    };
    proc.stderr.on('data', check);
    w.exited.then(({ code }) => {
      clearTimeout(t);
      reject(new Error(`worker exited ${code}:\n${w.log}`));
    });
  });
  /** Sends `signal` to the process group (Ctrl+C does the same) and waits for the exit. */
  w.stop = async (signal = 'SIGTERM') => {
    try {
      process.kill(-proc.pid, signal);
    } catch {}
    // The child is unref'd: this timer keeps the test alive until it exits (or escalates).
    const t = setTimeout(() => {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {}
    }, 30000);
    const r = await w.exited;
    clearTimeout(t);
    return r;
  };
  return w;
}

async function pollUntil(fn, timeoutMs = 30000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The CLI directly, for checks that are not runbook lines (pnpm costs seconds per call). */
async function cli(args) {
  const r = await run(TEMPORALITE, [...args, '--address', server.address], { timeoutMs: 120000 });
  assert.equal(r.code, 0, `temporalite ${args.join(' ')} failed (${r.code})\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Resolves `promise`, keeping the event loop alive meanwhile (children here are unref'd). */
async function keepAlive(promise, ms = 30000) {
  const t = setTimeout(() => {}, ms);
  try {
    return await promise;
  } finally {
    clearTimeout(t);
  }
}

/** The completed workflow's result (waits for the close). */
async function result(id) {
  const j = JSON.parse(await cli(['workflow', 'result', '-w', id, '-o', 'json']));
  assert.equal(j.status, 'COMPLETED', JSON.stringify(j));
  return Array.isArray(j.result) ? j.result[0] : j.result;
}

const rows = (runId) => pg.psql(`SELECT count(*) || '/' || count(DISTINCT item_id) FROM retailer_item_price WHERE run_id = '${runId}'`);

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tillless-worker-test-'));
  [server, pg] = await Promise.all([startServer(), startPostgres()]);
  const boss = new PgBoss({ connectionString: pg.url(), supervise: false, schedule: false });
  await boss.start();
  await boss.stop({ graceful: false, wait: true });
  fixture = await startFixture(STORES);
}, { timeout: 90000 });

after(async () => {
  for (const w of [...workers]) {
    try {
      process.kill(-w.proc.pid, 'SIGKILL');
    } catch {}
  }
  if (fixture) await fixture.stop();
  if (pg) await pg.destroy();
  if (server) await server.stop('SIGTERM');
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('runbook: worker up, trigger, rows and pg-boss jobs, schedule, list --status running empty, Ctrl+C', { timeout: 150000 }, async () => {
  const worker = await startWorker();
  const exp = await fixture.expected('sixty60-jhb');
  // "Trigger Workflow Manually", verbatim.
  const out = await ok(['temporal:workflow', '--workflow', 'CheckersIngestionWorkflow', '--input', '{"storeId":"sixty60-jhb","forceRefresh":true}']);
  const id = /WorkflowId\s+(\S+)/.exec(out)?.[1];
  assert.ok(id, out);
  const s = await result(id);
  assert.equal(s.runId, id);
  assert.equal(s.itemsWritten, exp.wellFormed);
  assert.equal(s.itemsNew, exp.wellFormed);
  assert.equal(s.malformed, exp.malformed);
  assert.ok(s.malformedSamples.length > 0);
  assert.equal(s.categories, Number(pg.psql(`SELECT count(DISTINCT category) FROM retailer_item_price WHERE run_id = '${id}'`)));
  assert.ok(s.pages > s.categories && s.durationMs >= 0, JSON.stringify(s));
  assert.equal(rows(id), `${exp.wellFormed}/${exp.wellFormed}`);
  assert.equal(pg.psql(`SELECT status || ' ' || (summary->>'itemsWritten') FROM ingest_run WHERE run_id = '${id}'`), `completed ${exp.wellFormed}`);
  const desc = JSON.stringify(JSON.parse(await cli(['workflow', 'describe', '-w', id, '-o', 'json'])));
  assert.match(desc, /checkers-ingestion/);
  assert.match(desc, /3600s|1h|"executionTimeout"/, 'the SLA is the execution timeout');

  // Prices change; an incremental run writes only the changes and publishes them to pg-boss.
  await fixture.setEpoch(1);
  const changes = await fixture.expected('sixty60-jhb', 0, 1);
  await cli(['workflow', 'start', '--workflow', 'CheckersIngestionWorkflow', '--task-queue', 'checkers-ingestion',
    '--workflow-id', 'jhb-incremental', '--input', '{"storeId":"sixty60-jhb","forceRefresh":false}']);
  const inc = await result('jhb-incremental');
  await fixture.setEpoch(0);
  assert.equal(inc.itemsWritten, changes.priceChanged);
  assert.equal(inc.itemsChanged, changes.priceChanged);
  assert.equal(inc.priceChangeJobs, changes.priceChanged);
  assert.equal(rows('jhb-incremental'), `${changes.priceChanged}/${changes.priceChanged}`);
  // "Confirm pg-boss job metrics": the runbook's stuck-job check shows the published jobs.
  assert.equal(pg.psql(`SELECT created || '/' || active || '/' || failed FROM pgboss.dashboard() WHERE queue = 'price-changes'`),
    `${changes.priceChanged}/0/0`);

  // Schedule cadence, verbatim; then listed.
  const created = await pnpm(['temporal:schedule', 'create', 'checkers-hourly', '--workflow', 'CheckersIngestionWorkflow',
    '--schedule', 'every 2h between 06:00-22:00 Africa/Johannesburg']);
  assert.equal(created.code, 0, created.stderr);
  assert.match(await ok(['temporal:schedule', 'list']), /checkers-hourly/);
  const sched = await cli(['schedule', 'describe', '-s', 'checkers-hourly', '-o', 'json']);
  assert.match(sched, /3600s/, 'the SLA');
  const schedInput = JSON.parse(sched).schedule.action.startWorkflow.input.payloads[0].data;
  assert.deepEqual(JSON.parse(Buffer.from(schedInput, 'base64').toString()), { storeId: 'sixty60-jhb', forceRefresh: false }, 'default input');
  await cli(['schedule', 'delete', '-s', 'checkers-hourly']);

  // Health check: nothing running outside execution windows.
  assert.deepEqual(JSON.parse(await ok(['temporal:workflow', 'list', '--status', 'running', '-o', 'json'])), []);

  // Recovery step 1, "Stop workers (Ctrl+C)": a clean exit.
  const exit = await worker.stop('SIGINT');
  assert.ok(exit.code === 0 || exit.signal === 'SIGINT', `${JSON.stringify(exit)}\n${worker.log}`);
  assert.match(worker.log, /worker: stopping \(finishing running activities\)\n[^]*worker: stopped\n/);
  assert.throws(() => process.kill(worker.pid, 0), /ESRCH/, 'the C++ worker exited');
});

test('a job sent by Node pg-boss starts the workflow and completes with its summary (or fails with why)', { timeout: 120000 }, async () => {
  const worker = await startWorker();
  const exp = await fixture.expected('sixty60-cpt');
  const boss = new PgBoss({ connectionString: pg.url(), supervise: false, schedule: false });
  boss.on('error', () => {});
  await boss.start();
  try {
    const q = 'checkers-ingestion-requests';
    const good = await boss.send(q, { storeId: 'sixty60-cpt', forceRefresh: true });
    const unknown = await boss.send(q, { storeId: 'no-such-store' }, { retryLimit: 0 });
    const bad = await boss.send(q, { storeId: 42 }, { retryLimit: 0 });
    const done = await pollUntil(async () => {
      const j = await boss.getJobById(q, good);
      return j.state === 'completed' ? j : null;
    }, 90000, 'job completed');
    assert.equal(done.output.runId, `pgboss-${good}`);
    assert.equal(done.output.itemsWritten, exp.wellFormed);
    assert.equal(rows(`pgboss-${good}`), `${exp.wellFormed}/${exp.wellFormed}`);
    // It ran as a workflow with the job's id.
    const desc = JSON.stringify(JSON.parse(await cli(['workflow', 'describe', '-w', `pgboss-${good}`, '-o', 'json'])));
    assert.match(desc, /CheckersIngestionWorkflow/);
    assert.match(desc, /COMPLETED|Completed/);

    const failed = await pollUntil(async () => {
      const j = await boss.getJobById(q, unknown);
      return j.state === 'failed' ? j : null;
    }, 60000, 'unknown store failed');
    assert.equal(failed.output.code, 'NOT_FOUND');
    assert.match(failed.output.message, /retailer has no store no-such-store/);
    const rejected = await pollUntil(async () => {
      const j = await boss.getJobById(q, bad);
      return j.state === 'failed' ? j : null;
    }, 30000, 'bad request failed');
    assert.equal(rejected.output.code, 'INVALID_ARGUMENT');
    assert.equal(pg.psql(`SELECT completed || '/' || failed || '/' || active FROM pgboss.dashboard() WHERE queue = '${q}'`), '1/2/0');
  } finally {
    await boss.stop({ graceful: false, wait: true });
    await worker.stop('SIGTERM');
  }
});

test('the worker SIGKILLed mid-run and restarted: the run completes with exactly one row per item', { timeout: 150000 }, async () => {
  const exp = await fixture.expected('sixty60-cpt');
  for (const category of ['bakery', 'household', 'beverages', 'pantry']) {
    for (let page = 1; page <= 8; page++) await fixture.fault({ store: 'sixty60-cpt', category, page, kind: 'slow', times: 1, delayMs: 250 });
  }
  const small = { INGEST_PAGE_SIZE: '50' };
  let worker = await startWorker(small);
  await cli(['workflow', 'start', '--workflow', 'CheckersIngestionWorkflow', '--task-queue', 'checkers-ingestion', '--workflow-id', 'cpt-kill',
    '--input', '{"storeId":"sixty60-cpt","forceRefresh":true,"concurrency":2,"heartbeatTimeoutSeconds":3}']);
  await pollUntil(() => Number(pg.psql(`SELECT count(*) FROM retailer_item_price WHERE run_id = 'cpt-kill'`)) > 0, 60000, 'first rows');
  process.kill(worker.pid, 'SIGKILL');
  await keepAlive(worker.exited);
  const partial = Number(pg.psql(`SELECT count(*) FROM retailer_item_price WHERE run_id = 'cpt-kill'`));
  assert.ok(partial > 0 && partial < exp.wellFormed, `killed mid-run: ${partial} of ${exp.wellFormed}`);
  worker = await startWorker(small);
  try {
    const s = await result('cpt-kill');
    assert.equal(s.itemsWritten, exp.wellFormed);
    assert.equal(rows('cpt-kill'), `${exp.wellFormed}/${exp.wellFormed}`);
    assert.equal(pg.psql(`SELECT status FROM ingest_run WHERE run_id = 'cpt-kill'`), 'completed');
    // The retried category activities resumed from their heartbeated cursor (attempt > 1).
    const hist = await cli(['workflow', 'show', '-w', 'cpt-kill', '-o', 'json']);
    assert.match(hist, /"attempt":\s*[2-9]/, 'an IngestCategory attempt was retried');
  } finally {
    await worker.stop('SIGTERM');
  }
});

test('PostgreSQL restarted mid-run under the worker: the run completes with exactly one row per item', { timeout: 150000 }, async () => {
  const exp = await fixture.expected('sixty60-cpt');
  for (const category of ['beverages', 'pantry', 'snacks', 'frozen']) {
    for (let page = 1; page <= 8; page++) await fixture.fault({ store: 'sixty60-cpt', category, page, kind: 'slow', times: 1, delayMs: 250 });
  }
  const worker = await startWorker({ INGEST_PAGE_SIZE: '50' });
  try {
    await cli(['workflow', 'start', '--workflow', 'CheckersIngestionWorkflow', '--task-queue', 'checkers-ingestion', '--workflow-id', 'cpt-pg-restart',
      '--input', '{"storeId":"sixty60-cpt","forceRefresh":true,"concurrency":2}']);
    await pollUntil(() => Number(pg.psql(`SELECT count(*) FROM retailer_item_price WHERE run_id = 'cpt-pg-restart'`)) > 0, 60000, 'first rows');
    await keepAlive(pg.stop('SIGQUIT'));  // immediate shutdown: in-flight transactions are lost
    await new Promise((r) => setTimeout(r, 1500));
    await pg.start();
    const partial = Number(pg.psql(`SELECT count(*) FROM retailer_item_price WHERE run_id = 'cpt-pg-restart'`));
    assert.ok(partial < exp.wellFormed, `restarted mid-run: ${partial} of ${exp.wellFormed}`);
    const s = await result('cpt-pg-restart');
    // An activity that met the stopped database failed and was retried.
    assert.match(await cli(['workflow', 'show', '-w', 'cpt-pg-restart', '-o', 'json']), /"attempt":\s*[2-9]/);
    assert.equal(s.itemsWritten, exp.wellFormed);
    assert.equal(s.malformed, exp.malformed);
    assert.equal(rows('cpt-pg-restart'), `${exp.wellFormed}/${exp.wellFormed}`);
    assert.equal(pg.psql(`SELECT status FROM ingest_run WHERE run_id = 'cpt-pg-restart'`), 'completed');
  } finally {
    await worker.stop('SIGTERM');
  }
});

test('missing or malformed settings stop the worker at start, naming the variable', { timeout: 60000 }, async () => {
  // Through the runbook's command once (the pnpm script passes the worker's exit code on)...
  const e = env();
  delete e.PG_BOSS_QUEUE;
  const r = await new Promise((resolve) => {
    require('node:child_process').execFile(PNPM, ['--silent', 'temporal:worker', '--worker', 'checkers-ingestion'],
      { cwd: PKG, env: e, timeout: 30000 }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stderr }));
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /PG_BOSS_QUEUE is not set \(in \.env or the environment\)/);
  const unknown = await pnpm(['temporal:worker', '--worker', 'nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown worker "nope" \(known: checkers-ingestion\)/);

  // ...then the worker binary with an .env file (values from the file; the environment wins).
  const cases = [
    ['', { DATABASE_URL: undefined }, 2, /DATABASE_URL is not set/],
    ['', { SIXTY60_CLIENT_SECRET: undefined }, 2, /SIXTY60_CLIENT_SECRET is not set/],
    ['TEMPORAL_ADDRESS=localhost\n', { TEMPORAL_ADDRESS: undefined }, 2, /TEMPORAL_ADDRESS="localhost" \(\.env\) is not host:port/],
    ['INGEST_CONCURRENCY=many\n', {}, 2, /INGEST_CONCURRENCY="many" \(\.env\) is not an integer in 1\.\.64/],
    ['DATABASE_URL=mysql://x\n', { DATABASE_URL: undefined }, 2, /DATABASE_URL \(\.env\) must be a postgres:\/\/ or postgresql:\/\/ URL/],
    ['PG_BOSS_QUEUE=a b\n', { PG_BOSS_QUEUE: undefined }, 2, /PG_BOSS_QUEUE="a b" \(\.env\) is not a queue name/],
    ['', { TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` }, 1, /cannot use Temporalite at TEMPORAL_ADDRESS=127\.0\.0\.1:\d+/],
    ['', { TEMPORAL_NAMESPACE: 'no-such-namespace' }, 1, /cannot use Temporalite at .* TEMPORAL_NAMESPACE=no-such-namespace/],
  ];
  const file = path.join(tmp, 'worker.env');
  for (const [dotenv, over, code, pattern] of cases) {
    fs.writeFileSync(file, `# test\n${dotenv}`);
    const ee = env(over);
    for (const [k, v] of Object.entries(over)) if (v === undefined) delete ee[k];
    if (dotenv.includes('INGEST_CONCURRENCY')) delete ee.INGEST_CONCURRENCY;
    const t0 = Date.now();
    const rr = await new Promise((resolve) => {
      require('node:child_process').execFile(INGEST_BIN, ['worker', '--env-file', file], { env: ee, timeout: 30000 },
        (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stderr }));
    });
    assert.equal(rr.code, code, `${dotenv} ${JSON.stringify(over)}: ${rr.stderr}`);
    assert.match(rr.stderr, pattern);
    assert.ok(Date.now() - t0 < 15000, 'refused promptly');
  }
});

test('pnpm demo runs an ingestion through the server and the worker, and a pg-boss request, then stops all', { timeout: 150000 }, async () => {
  const r = await pnpm(['demo'], {}, 140000);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /Temporalite: +127\.0\.0\.1:\d+/);
  assert.match(r.stdout, /Worker: +tillless-ingest worker on task queue checkers-ingestion/);
  const summary = JSON.parse(/Summary \(workflow demo-1, COMPLETED\): (\{[^]*?\n\})/.exec(r.stdout)[1]);
  const exp = await fixture.expected('sixty60-jhb');  // the demo's fixture serves the same catalogue
  assert.equal(summary.itemsWritten, exp.wellFormed);
  assert.equal(summary.malformed, exp.malformed);
  const changes = await fixture.expected('sixty60-jhb', 0, 1);
  assert.match(r.stdout, new RegExp(`Job completed by workflow pgboss-\\S+: ${changes.priceChanged} rows written, ${changes.priceChanged} price changes`));
  assert.match(r.stdout, new RegExp(`price-changes\\|${changes.priceChanged}\\|`));
});
