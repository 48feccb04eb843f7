'use strict';
// Checkers ingestion against a real PostgreSQL (own cluster), the real npm pg-boss (pinned) and
// the fixture retailer: exactly one row per item per run, faults retried, malformed items
// reported, conditional requests and unchanged prices writing nothing, price changes published
// to pg-boss and received by a Node work() handler, PostgreSQL restarted mid-run, C++ <-> Node
// pg-boss interop, the schema-version check, bad .env values, and the offline fallback of
// `pnpm temporal:workflow` when Temporalite is unreachable.
//
// Run: tests/run-node-tests.sh tests/ingest/ingest.test.js

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const PgBoss = require('pg-boss');

const { startPostgres, freePort } = require('../../infra/orchestration/scripts/local-postgres.cjs');
const { REPO_ROOT, INGEST_BIN, startFixture, run } = require('./fixture');

const STORES = { 'sixty60-jhb': 1200, 'sixty60-cpt': 3000 };
let pg;
let fixture;
let tmp;

function env(extra = {}) {
  return {
    DATABASE_URL: pg.url(),
    SIXTY60_BASE_URL: fixture.url,
    SIXTY60_CLIENT_ID: 'tillless',
    SIXTY60_CLIENT_SECRET: 'fixture-secret',
    INGEST_PAGE_SIZE: '100',
    INGEST_CONCURRENCY: '4',
    HTTP_TIMEOUT_MS: '1000',
    PG_BOSS_PRICE_QUEUE: 'price-changes',
    npm_config_update_notifier: 'false',
    ...extra,
  };
}

async function ingest(args, extraEnv = {}) {
  const r = await run(INGEST_BIN, ['run', '--env-file', path.join(tmp, 'none.env'), ...args], { env: env(extraEnv), cwd: tmp });
  return r;
}

function summaryOf(r) {
  assert.equal(r.code, 0, `tillless-ingest failed (${r.code})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const rows = (runId) => pg.psql(`SELECT count(*) || '/' || count(DISTINCT item_id) FROM retailer_item_price WHERE run_id = '${runId}'`);

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tillless-ingest-test-'));
  fs.writeFileSync(path.join(tmp, 'none.env'), '# settings come from the environment\n');
  pg = await startPostgres();
  // pg-boss installs its own schema, as the worker's Node side would.
  const boss = new PgBoss({ connectionString: pg.url(), supervise: false, schedule: false });
  await boss.start();
  await boss.stop({ graceful: false, wait: true });
  fixture = await startFixture(STORES);
}, { timeout: 90000 });

after(async () => {
  if (fixture) await fixture.stop();
  if (pg) await pg.destroy();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('the pinned npm pg-boss is the schema version the C++ client speaks', () => {
  const v = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'node_modules/pg-boss/version.json'), 'utf8'));
  assert.equal(v.schema, 24, 'bumping pg-boss needs PgBossClient (kPgBossSchemaVersion) reviewed');
  assert.equal(pg.psql('SELECT version FROM pgboss.version'), '24');
});

test('offline run: one row per item, malformed reported, 429/500/slow pages retried', { timeout: 120000 }, async () => {
  const exp = await fixture.expected('sixty60-jhb');
  await fixture.fault({ store: 'sixty60-jhb', category: 'beverages', page: 0, kind: '429', times: 2, retryAfter: 1 });
  await fixture.fault({ store: 'sixty60-jhb', category: 'dairy-eggs', page: 1, kind: '500', times: 2 });
  await fixture.fault({ store: 'sixty60-jhb', category: 'pantry', page: 0, kind: 'slow', times: 1, delayMs: 2500 });
  await fixture.fault({ store: 'sixty60-jhb', category: '', page: 0, kind: '500', times: 1 });
  const s = summaryOf(await ingest(['--input', '{"storeId":"sixty60-jhb","forceRefresh":true}', '--run-id', 'jhb-1']));
  assert.equal(s.itemsWritten, exp.wellFormed);
  assert.equal(s.itemsNew, exp.wellFormed);
  assert.equal(s.itemsSeen, exp.items - countNonObjects(exp.items));
  assert.equal(s.malformed, exp.malformed);
  assert.ok(s.malformedSamples.some((m) => /price "R--" is not a rand amount/.test(m)), s.malformedSamples.join('\n'));
  assert.ok(s.malformedSamples.some((m) => /has no title/.test(m)), s.malformedSamples.join('\n'));
  assert.ok(s.http.retried429 >= 2, JSON.stringify(s.http));
  assert.ok(s.http.retried5xx >= 3, JSON.stringify(s.http));
  assert.ok(s.http.retriedTransport >= 1, JSON.stringify(s.http));
  assert.equal(rows('jhb-1'), `${exp.wellFormed}/${exp.wellFormed}`);
  // Normalised values landed: sizes, unit prices, stock.
  assert.equal(pg.psql(`SELECT count(*) FROM retailer_item_price WHERE run_id = 'jhb-1' AND unit_price_cents IS NULL`), '0');
  assert.equal(pg.psql(`SELECT pack_count || ' x ' || pack_amount || pack_unit || ' ' || unit_basis FROM retailer_item_price
    WHERE run_id = 'jhb-1' AND title LIKE 'Coca-Cola Original Soft Drink%' LIMIT 1`), '6 x 330ml l');
  assert.equal(pg.psql(`SELECT status FROM ingest_run WHERE run_id = 'jhb-1'`), 'completed');

  // The same run again (a retried workflow): nothing is added.
  const again = summaryOf(await ingest(['--store-id', 'sixty60-jhb', '--force-refresh', '--run-id', 'jhb-1']));
  assert.equal(again.itemsWritten, exp.wellFormed);
  assert.equal(rows('jhb-1'), `${exp.wellFormed}/${exp.wellFormed}`);
});

// Items that are not JSON objects are counted as malformed but never "seen" as items.
function countNonObjects(n) {
  let c = 0;
  for (let i = 0; i < n; i++) if (i % 101 === 100 && Math.floor(i / 101) % 5 === 4) c++;
  return c;
}

test('forceRefresh=false: unchanged pages answered 304, unchanged prices write nothing, changes published to pg-boss', { timeout: 120000 }, async () => {
  const before304 = (await fixture.stats()).not_modified ?? 0;
  const same = summaryOf(await ingest(['--input', '{"storeId":"sixty60-jhb","forceRefresh":false}', '--run-id', 'jhb-2']));
  assert.equal(same.itemsWritten, 0);
  assert.equal(same.pagesNotModified, same.pages);
  assert.equal((await fixture.stats()).not_modified - before304, same.pages);
  assert.equal(rows('jhb-2'), '0/0');

  await fixture.setEpoch(1);
  const exp = await fixture.expected('sixty60-jhb', 0, 1);
  assert.ok(exp.priceChanged > 20, `fixture should change prices: ${JSON.stringify(exp)}`);
  const changed = summaryOf(await ingest(['--input', '{"storeId":"sixty60-jhb","forceRefresh":false}', '--run-id', 'jhb-3']));
  assert.equal(changed.itemsWritten, exp.priceChanged);
  assert.equal(changed.itemsChanged, exp.priceChanged);
  assert.equal(changed.priceChangeJobs, exp.priceChanged);
  assert.equal(rows('jhb-3'), `${exp.priceChanged}/${exp.priceChanged}`);
  assert.equal(pg.psql(`SELECT count(*) FROM retailer_item_price WHERE run_id = 'jhb-3' AND previous_price_cents = price_cents`), '0');

  // Publishing again (a retried activity) sends nothing twice.
  const rerun = summaryOf(await ingest(['--input', '{"storeId":"sixty60-jhb","forceRefresh":false}', '--run-id', 'jhb-3']));
  assert.equal(rerun.priceChangeJobs, 0);

  // A Node pg-boss work() handler receives every published change.
  const boss = new PgBoss({ connectionString: pg.url(), supervise: false, schedule: false });
  boss.on('error', () => {});
  await boss.start();
  try {
    const seen = new Map();
    let resolveAll;
    const all = new Promise((r) => { resolveAll = r; });
    await boss.work('price-changes', { batchSize: 200, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      for (const j of jobs) seen.set(j.data.itemId, j.data);
      if (seen.size >= exp.priceChanged) resolveAll();
    });
    await Promise.race([all, new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${seen.size} jobs received`)), 30000))]);
    assert.equal(seen.size, exp.priceChanged);
    const one = [...seen.values()][0];
    assert.equal(one.runId, 'jhb-3');
    assert.equal(one.storeId, 'sixty60-jhb');
    assert.notEqual(one.previousPriceCents, one.priceCents);
    // pgboss.dashboard() (the runbook's stuck-job check) shows them completed.
    await pollUntil(() => pg.psql(`SELECT completed FROM pgboss.dashboard() WHERE queue = 'price-changes'`) === String(exp.priceChanged));
    assert.equal(pg.psql(`SELECT active || '/' || failed FROM pgboss.dashboard() WHERE queue = 'price-changes'`), '0/0');
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
  await fixture.setEpoch(0);
});

async function pollUntil(fn, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('PostgreSQL restarted mid-run: the run completes with exactly one row per item', { timeout: 180000 }, async () => {
  const exp = await fixture.expected('sixty60-cpt');
  // Slow pages stretch the run so the restart lands in the middle of it.
  for (const category of ['beverages', 'pantry', 'snacks', 'frozen']) {
    for (let page = 1; page <= 6; page++) await fixture.fault({ store: 'sixty60-cpt', category, page, kind: 'slow', times: 1, delayMs: 300 });
  }
  const running = ingest(['--store-id', 'sixty60-cpt', '--force-refresh', '--run-id', 'cpt-restart'], { INGEST_PAGE_SIZE: '50', INGEST_CONCURRENCY: '2' });
  await pollUntil(() => Number(pg.psql(`SELECT count(*) FROM retailer_item_price WHERE run_id = 'cpt-restart'`)) > 0, 60000);
  await pg.stop('SIGQUIT');  // immediate shutdown: in-flight transactions are lost, recovery at start
  await new Promise((r) => setTimeout(r, 1500));
  await pg.start();
  const s = summaryOf(await running);
  assert.ok(s.activityRetries >= 1, `expected activity retries: ${JSON.stringify(s)}`);
  assert.equal(s.itemsWritten, exp.wellFormed);
  assert.equal(s.malformed, exp.malformed);
  assert.equal(rows('cpt-restart'), `${exp.wellFormed}/${exp.wellFormed}`);
});

test('the runner SIGKILLed mid-run and run again with the same run id: exactly one row per item', { timeout: 120000 }, async () => {
  const exp = await fixture.expected('sixty60-cpt');
  for (const category of ['bakery', 'household']) {
    for (let page = 1; page <= 8; page++) await fixture.fault({ store: 'sixty60-cpt', category, page, kind: 'slow', times: 1, delayMs: 300 });
  }
  const { spawn } = require('node:child_process');
  const child = spawn(INGEST_BIN, ['run', '--env-file', path.join(tmp, 'none.env'), '--store-id', 'sixty60-cpt', '--force-refresh', '--run-id', 'cpt-kill'],
    { env: { ...process.env, ...env({ INGEST_PAGE_SIZE: '50', INGEST_CONCURRENCY: '2' }) }, stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  await pollUntil(() => Number(pg.psql(`SELECT count(*) FROM retailer_item_price WHERE run_id = 'cpt-kill'`)) > 0, 60000);
  child.kill('SIGKILL');
  assert.equal((await exited).signal, 'SIGKILL');
  const partial = Number(pg.psql(`SELECT count(*) FROM retailer_item_price WHERE run_id = 'cpt-kill'`));
  assert.ok(partial > 0 && partial < exp.wellFormed, `killed mid-run: ${partial} of ${exp.wellFormed}`);
  assert.equal(pg.psql(`SELECT status FROM ingest_run WHERE run_id = 'cpt-kill'`), 'running');
  const s = summaryOf(await ingest(['--store-id', 'sixty60-cpt', '--force-refresh', '--run-id', 'cpt-kill']));
  assert.equal(s.itemsWritten, exp.wellFormed);
  assert.equal(rows('cpt-kill'), `${exp.wellFormed}/${exp.wellFormed}`);
  assert.equal(pg.psql(`SELECT status FROM ingest_run WHERE run_id = 'cpt-kill'`), 'completed');
});

test('C++ and Node pg-boss share jobs: send, fetch (SKIP LOCKED), complete, fail, singleton, dashboard', { timeout: 60000 }, async () => {
  const url = pg.url();
  const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false });
  boss.on('error', () => {});
  await boss.start();
  const cpp = async (...args) => run(INGEST_BIN, ['pgboss', ...args, '--database-url', url]);
  try {
    await boss.createQueue('ingest-requests');
    // Node sends, C++ fetches and completes.
    const id = await boss.send('ingest-requests', { storeId: 'sixty60-jhb', forceRefresh: true }, { retryLimit: 3, expireInSeconds: 600 });
    let r = await cpp('fetch', 'ingest-requests', '--batch', '5');
    assert.equal(r.code, 0, r.stderr);
    const fetched = JSON.parse(r.stdout);
    assert.equal(fetched.length, 1);
    assert.equal(fetched[0].id, id);
    assert.deepEqual(fetched[0].data, { storeId: 'sixty60-jhb', forceRefresh: true });
    assert.equal(fetched[0].expireInSeconds, 600);
    r = await cpp('fetch', 'ingest-requests');
    assert.deepEqual(JSON.parse(r.stdout), [], 'an active job is not fetched twice');
    r = await cpp('complete', 'ingest-requests', id, '{"itemsWritten":42}');
    assert.equal(r.code, 0, r.stderr);
    let job = await boss.getJobById('ingest-requests', id);
    assert.equal(job.state, 'completed');
    assert.deepEqual(job.output, { itemsWritten: 42 });

    // Fail: retried while retries remain, then failed.
    const id2 = await boss.send('ingest-requests', { storeId: 'x' }, { retryLimit: 1 });
    await cpp('fetch', 'ingest-requests');
    r = await cpp('fail', 'ingest-requests', id2, '{"message":"store unknown"}');
    assert.equal(r.code, 0, r.stderr);
    job = await boss.getJobById('ingest-requests', id2);
    assert.equal(job.state, 'retry');
    assert.equal((JSON.parse((await cpp('fetch', 'ingest-requests')).stdout))[0].retryCount, 1);
    await cpp('fail', 'ingest-requests', id2, '{"message":"store unknown"}');
    job = await boss.getJobById('ingest-requests', id2);
    assert.equal(job.state, 'failed');
    assert.deepEqual(job.output, { message: 'store unknown' });

    // C++ sends (singleton key on a 'short' queue: one queued job per key), Node work() receives.
    await run(INGEST_BIN, ['pgboss', 'create-queue', 'cpp-to-node', '--policy', 'short', '--database-url', url]);
    const s1 = JSON.parse((await cpp('send', 'cpp-to-node', '{"n":1}', '--singleton-key', 'jhb', '--retry-limit', '4')).stdout);
    const s2 = JSON.parse((await cpp('send', 'cpp-to-node', '{"n":2}', '--singleton-key', 'jhb')).stdout);
    assert.ok(s1.id);
    assert.equal(s2.id, null, 'second job with the same singleton key dropped');
    const s3 = JSON.parse((await cpp('send', 'cpp-to-node', '{"n":3}', '--singleton-key', 'cpt')).stdout);
    assert.ok(s3.id);
    const got = [];
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`received ${JSON.stringify(got)}`)), 20000);
      boss.work('cpp-to-node', { pollingIntervalSeconds: 0.5, batchSize: 10 }, async (jobs) => {
        for (const j of jobs) got.push(j.data.n);
        if (got.length >= 2) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    assert.deepEqual(got.sort(), [1, 3]);
    const sent = await boss.getJobById('cpp-to-node', s1.id);
    assert.equal(sent.retryLimit, 4);
    // An unknown queue is a clear error.
    r = await cpp('send', 'no-such-queue', '{}');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /NOT_FOUND: pg-boss queue no-such-queue does not exist/);
    // The dashboard answers per queue.
    await pollUntil(() => pg.psql(`SELECT completed FROM pgboss.dashboard() WHERE queue = 'cpp-to-node'`) === '2');
    const dash = JSON.parse((await cpp('dashboard')).stdout);
    const q = dash.find((d) => d.queue === 'ingest-requests');
    assert.deepEqual({ completed: q.completed, failed: q.failed }, { completed: 1, failed: 1 });
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
});

test('wrong retailer credentials fail the run clearly (no retries)', { timeout: 30000 }, async () => {
  const r = await ingest(['--store-id', 'sixty60-jhb', '--run-id', 'bad-auth'], { SIXTY60_CLIENT_SECRET: 'wrong' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /UNAUTHENTICATED: ListCategories failed after 1 attempt\(s\): retailer rejected the credentials \(SIXTY60_CLIENT_ID \/ SIXTY60_CLIENT_SECRET\): HTTP 401/);
  assert.equal(pg.psql(`SELECT status FROM ingest_run WHERE run_id = 'bad-auth'`), 'failed');
});

test('a request sent by Node pg-boss runs the ingestion (consume --offline) and the job completes with the summary', { timeout: 120000 }, async () => {
  const exp = await fixture.expected('sixty60-jhb');
  const boss = new PgBoss({ connectionString: pg.url(), supervise: false, schedule: false });
  boss.on('error', () => {});
  await boss.start();
  try {
    await boss.createQueue('checkers-ingestion-requests');
    const good = await boss.send('checkers-ingestion-requests', { storeId: 'sixty60-jhb', forceRefresh: true });
    const bad = await boss.send('checkers-ingestion-requests', { storeId: 42 }, { retryLimit: 0 });
    // --offline: in process (the worker service starts workflows instead: worker.test.js).
    const r = await run(INGEST_BIN, ['consume', '--once', '--offline', '--env-file', path.join(tmp, 'none.env')],
      { env: env({ PG_BOSS_QUEUE: 'checkers-ingestion-requests' }), cwd: tmp });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { handled: 2 });
    const done = await boss.getJobById('checkers-ingestion-requests', good);
    assert.equal(done.state, 'completed');
    assert.equal(done.output.runId, `pgboss-${good}`);
    assert.equal(done.output.itemsWritten, exp.wellFormed);
    assert.equal(rows(`pgboss-${good}`), `${exp.wellFormed}/${exp.wellFormed}`);
    const failed = await boss.getJobById('checkers-ingestion-requests', bad);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.output.code, 'INVALID_ARGUMENT');
    assert.match(failed.output.message, /job data needs "storeId"/);
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
});

test('a different pg-boss schema version is refused clearly', { timeout: 30000 }, async () => {
  pg.psql('CREATE DATABASE otherboss', 'tillless');
  const boss = new PgBoss({ connectionString: pg.url('otherboss'), supervise: false, schedule: false });
  await boss.start();
  await boss.stop({ graceful: false, wait: true });
  pg.psql('UPDATE pgboss.version SET version = 25', 'otherboss');
  const r = await run(INGEST_BIN, ['pgboss', 'fetch', 'q', '--database-url', pg.url('otherboss')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /FAILED_PRECONDITION: pg-boss schema version 25 found, but this client speaks only version 24 \(npm pg-boss 10\.3\.2\)/);
  pg.psql('CREATE DATABASE noboss', 'tillless');
  const r2 = await run(INGEST_BIN, ['pgboss', 'check', '--database-url', pg.url('noboss')]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /pg-boss is not installed in this database/);
  // The offline runner refuses to publish into a mismatched pg-boss rather than guessing.
  const run3 = await ingest(['--store-id', 'sixty60-jhb'], { DATABASE_URL: pg.url('otherboss') });
  assert.equal(run3.code, 2);
  assert.match(run3.stderr, /pg-boss schema version 25 found/);
});

test('bad .env values stop the runner at start, naming the variable', { timeout: 30000 }, async () => {
  const cases = [
    ['INGEST_CONCURRENCY=abc\n', /INGEST_CONCURRENCY="abc" \(\.env\) is not an integer in 1\.\.64/],
    ['DATABASE_URL=mysql://nope\n', /DATABASE_URL \(\.env\) must be a postgres:\/\/ or postgresql:\/\/ URL/],
    ['SIXTY60_BASE_URL=127.0.0.1:9\n', /SIXTY60_BASE_URL="127.0.0.1:9" \(\.env\) must be an http/],
    ['TEMPORAL_ADDRESS=localhost\n', /TEMPORAL_ADDRESS="localhost" \(\.env\) is not host:port/],
    ['PG_BOSS_QUEUE=two words\n', /PG_BOSS_QUEUE="two words" \(\.env\) is not a queue name/],
    ['this line is wrong\n', /\.env line 1 is not KEY=VALUE/],
  ];
  const base = env();
  for (const [line, pattern] of cases) {
    const key = line.split('=')[0];
    const file = path.join(tmp, 'bad.env');
    const envFromFile = { ...base };
    delete envFromFile[key];
    fs.writeFileSync(file, line);
    const cleanEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!(k in base) && k !== key) cleanEnv[k] = v;
    const r = await new Promise((resolve) => {
      require('node:child_process').execFile(INGEST_BIN, ['run', '--env-file', file, '--store-id', 'sixty60-jhb'],
        { env: { ...cleanEnv, ...envFromFile } }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stderr }));
    });
    assert.equal(r.code, 2, `${line}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  // A missing required setting is named too.
  const noDb = { ...base };
  delete noDb.DATABASE_URL;
  const cleanEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== 'DATABASE_URL') cleanEnv[k] = v;
  const r = await new Promise((resolve) => {
    require('node:child_process').execFile(INGEST_BIN, ['run', '--env-file', path.join(tmp, 'none.env'), '--store-id', 'x'],
      { env: { ...cleanEnv, ...noDb } }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stderr }));
  });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /DATABASE_URL is not set \(in \.env or the environment\)/);
});

test('pnpm temporal:workflow falls back to the offline run when Temporalite is unreachable', { timeout: 120000 }, async () => {
  const pkg = path.join(REPO_ROOT, 'infra', 'orchestration');
  const pnpm = path.join(REPO_ROOT, 'node_modules', '.bin', 'pnpm');
  const closedPort = await freePort();
  const exp = await fixture.expected('sixty60-jhb');
  const r = await run(pnpm, ['--silent', 'temporal:workflow', '--workflow', 'CheckersIngestionWorkflow', '--workflow-id', 'nightly-fallback',
    '--input', '{"storeId":"sixty60-jhb","forceRefresh":true}'],
  { cwd: pkg, env: env({ TEMPORAL_ADDRESS: `127.0.0.1:${closedPort}` }) });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /unreachable; running the ingestion offline/);
  const s = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(s.runId, 'nightly-fallback');
  assert.equal(rows('nightly-fallback'), `${exp.wellFormed}/${exp.wellFormed}`);
  // A failing fallback exits non-zero (an unknown store).
  const bad = await run(pnpm, ['--silent', 'temporal:workflow', '--workflow', 'CheckersIngestionWorkflow', '--offline',
    '--input', '{"storeId":"no-such-store","forceRefresh":false}'], { cwd: pkg, env: env() });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /NOT_FOUND: ListCategories failed after 1 attempt\(s\): retailer has no store no-such-store/);
});
