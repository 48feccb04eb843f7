// pnpm demo: one command that starts a throwaway PostgreSQL cluster, the fixture retailer,
// Temporalite (temp data dir, free port) and the checkers-ingestion worker, installs pg-boss's
// schema (pinned npm pg-boss) and the project's migrations, then:
//   1. runs CheckersIngestionWorkflow for sixty60-jhb (forceRefresh=true) through the server;
//   2. changes the fixture's prices and sends an ingestion request as a pg-boss job (Node), which
//      the worker's consumer turns into a second, incremental workflow run;
// prints both run summaries, a few retailer_item_price rows and pgboss.dashboard(), then stops
// everything it started (exit 0 on success).
//   pnpm demo [--offline]   (--offline: the same ingestion in process, without the server)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { binary, PACKAGE_DIR, REPO_ROOT } from './lib.mjs';

const require = createRequire(path.join(REPO_ROOT, 'package.json'));
const { startPostgres } = require(path.join(PACKAGE_DIR, 'scripts', 'local-postgres.cjs'));
const PgBoss = require('pg-boss');

const offline = process.argv.includes('--offline');
const ingestBin = binary('TILLLESS_INGEST_BIN', 'tillless-ingest');
const fixtureBin = binary('FIXTURE_RETAILER_BIN', 'fixture-retailer');
const serverBin = offline ? null : binary('TEMPORALITE_BIN', 'temporalite');
const STORE = 'sixty60-jhb';
const REQUESTS = 'checkers-ingestion-requests';

const started = [];  // child processes to stop, last first
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tillless-demo-'));

/** Spawns a long-running child; resolves with the first match of `ready` in its output. */
function startChild(name, bin, args, ready, env = process.env, timeoutMs = 30000) {
  const proc = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push({ name, proc });
  let out = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (c) => {
      out += c;
      const m = ready.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${name} exited ${code}:\n${out}`));
    });
  });
}

async function stopAll() {
  for (const { proc } of started.reverse()) {
    if (proc.exitCode !== null || proc.signalCode !== null) continue;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 20000);
    await exited;
    clearTimeout(t);
  }
}

function cli(args) {
  const r = spawnSync(serverBin, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`temporalite ${args.join(' ')}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const pg = await startPostgres();
let code = 1;
try {
  const fixtureUrl = await startChild('fixture-retailer', fixtureBin, ['--port', '0'], /Fixture retailer: (\S+)/);
  console.log(`PostgreSQL:       ${pg.url()}  (cluster in ${pg.dir})`);
  console.log(`Fixture retailer: ${fixtureUrl}`);
  const boss = new PgBoss({ connectionString: pg.url(), supervise: false, schedule: false });
  boss.on('error', (e) => console.error('pg-boss:', e.message));
  await boss.start();
  const env = {
    ...process.env,
    DATABASE_URL: pg.url(),
    PG_BOSS_QUEUE: REQUESTS,
    PG_BOSS_PRICE_QUEUE: 'price-changes',
    SIXTY60_BASE_URL: fixtureUrl,
    SIXTY60_CLIENT_ID: 'tillless',
    SIXTY60_CLIENT_SECRET: 'fixture-secret',
  };
  const input = JSON.stringify({ storeId: STORE, forceRefresh: true });
  let firstRun = 'demo-1';
  if (offline) {
    await boss.stop({ graceful: false, wait: true });
    console.log(`\n$ tillless-ingest run --input '${input}'   (offline runner)`);
    const r = spawnSync(ingestBin, ['run', '--env-file', '/dev/null', '--input', input, '--run-id', firstRun], { env, encoding: 'utf8' });
    process.stderr.write(r.stderr);
    if (r.status !== 0) throw new Error(`ingestion failed (exit ${r.status})`);
    console.log('Summary:', JSON.stringify(JSON.parse(r.stdout), null, 2));
  } else {
    const address = await startChild('temporalite', serverBin,
      ['server', 'start-dev', '--port', '0', '--http-port', '0', '--headless', '--log-level', 'warn',
        '--db-filename', path.join(tmp, 'temporalite.db')], /^Server:\s+(\S+)/m);
    console.log(`Temporalite:      ${address}  (data in ${tmp})`);
    const workerEnv = { ...env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default' };
    await startChild('worker', ingestBin, ['worker', '--env-file', '/dev/null'], /worker: (pid \d+) polling/, workerEnv);
    console.log('Worker:           tillless-ingest worker on task queue checkers-ingestion');
    console.log(`\n$ temporalite workflow start --workflow CheckersIngestionWorkflow --task-queue checkers-ingestion --workflow-id ${firstRun} --input '${input}'`);
    cli(['workflow', 'start', '--address', address, '--workflow', 'CheckersIngestionWorkflow', '--task-queue', 'checkers-ingestion',
      '--workflow-id', firstRun, '--execution-timeout', '1h', '--input', input]);
    const res = JSON.parse(cli(['workflow', 'result', '--address', address, '-w', firstRun, '-o', 'json']));
    const summary = Array.isArray(res.result) ? res.result[0] : res.result;
    console.log(`Summary (workflow ${firstRun}, ${res.status}):`, JSON.stringify(summary, null, 2));

    // Prices change at the retailer; an ingestion request arrives as a pg-boss job.
    await fetch(`${fixtureUrl}/admin/epoch`, { method: 'POST', body: JSON.stringify({ epoch: 1 }) });
    const jobId = await boss.send(REQUESTS, { storeId: STORE, forceRefresh: false });
    console.log(`\npg-boss job ${jobId} on ${REQUESTS}: {"storeId":"${STORE}","forceRefresh":false}`);
    const deadline = Date.now() + 120000;
    let job;
    for (;;) {
      job = await boss.getJobById(REQUESTS, jobId);
      if (job && (job.state === 'completed' || job.state === 'failed')) break;
      if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job?.state} after 120 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
    if (job.state !== 'completed') throw new Error(`job ${jobId} failed: ${JSON.stringify(job.output)}`);
    const o = job.output;
    console.log(`Job completed by workflow pgboss-${jobId}: ${o.itemsWritten} rows written, ${o.itemsChanged} price changes,` +
      ` ${o.priceChangeJobs} price-change jobs published, ${o.pagesNotModified}/${o.pages} pages unchanged (304), ${o.durationMs} ms`);
  }
  await boss.stop({ graceful: false, wait: true });
  console.log('\nA few retailer_item_price rows (run_id|item_id|title|price_cents|previous|change|pack|unit price|stock):');
  console.log(pg.psql(`SELECT run_id, item_id, title, price_cents, previous_price_cents AS prev, change_kind,
    pack_count || ' x ' || pack_amount || pack_unit AS pack, unit_price_cents || '/' || unit_basis AS unit_price, stock_level
    FROM retailer_item_price ORDER BY change_kind = 'changed' DESC, item_id LIMIT 6`).split('\n').map((l) => `  ${l}`).join('\n'));
  console.log('\nSELECT * FROM pgboss.dashboard();  (queue|created|retry|active|completed|cancelled|failed|total|oldest active job|since)');
  console.log(`  ${pg.psql('SELECT * FROM pgboss.dashboard()').split('\n').join('\n  ') || '(no queues)'}`);
  code = 0;
} catch (e) {
  console.error(`demo: ${e.message}`);
} finally {
  await stopAll();
  await pg.destroy();
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
