// pnpm demo: one command that starts a throwaway PostgreSQL cluster and the fixture retailer,
// installs pg-boss's schema (pinned npm pg-boss) and the project's migrations, runs a
// CheckersIngestionWorkflow ingestion for sixty60-jhb, prints the run summary, a few
// retailer_item_price rows and pgboss.dashboard(), then stops everything it started.
// UNFINISHED: the ingestion runs through the offline runner; starting Temporalite and the
// checkers-ingestion worker comes with the C++ SDK worker (issue 10).
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { binary, PACKAGE_DIR, REPO_ROOT } from './lib.mjs';

const require = createRequire(path.join(REPO_ROOT, 'package.json'));
const { startPostgres } = require(path.join(PACKAGE_DIR, 'scripts', 'local-postgres.cjs'));
const PgBoss = require('pg-boss');

const ingestBin = binary('TILLLESS_INGEST_BIN', 'tillless-ingest');
const fixtureBin = binary('FIXTURE_RETAILER_BIN', 'fixture-retailer');

const pg = await startPostgres();
const fixture = spawn(fixtureBin, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
let code = 1;
try {
  const fixtureUrl = await new Promise((resolve, reject) => {
    let out = '';
    fixture.stdout.on('data', (c) => {
      out += c;
      const m = /Fixture retailer: (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    fixture.once('exit', (c) => reject(new Error(`fixture-retailer exited ${c}`)));
  });
  console.log(`PostgreSQL:       ${pg.url()}  (cluster in ${pg.dir})`);
  console.log(`Fixture retailer: ${fixtureUrl}`);
  const boss = new PgBoss({ connectionString: pg.url(), supervise: false, schedule: false });
  await boss.start();
  await boss.stop({ graceful: false, wait: true });
  const env = {
    ...process.env,
    DATABASE_URL: pg.url(),
    SIXTY60_BASE_URL: fixtureUrl,
    SIXTY60_CLIENT_ID: 'tillless',
    SIXTY60_CLIENT_SECRET: 'fixture-secret',
  };
  console.log('\n$ tillless-ingest run --input \'{"storeId":"sixty60-jhb","forceRefresh":true}\'   (offline runner)');
  const r = spawnSync(ingestBin, ['run', '--env-file', '/dev/null', '--input', '{"storeId":"sixty60-jhb","forceRefresh":true}', '--run-id', 'demo-1'],
    { env, encoding: 'utf8' });
  process.stderr.write(r.stderr);
  if (r.status !== 0) throw new Error(`ingestion failed (exit ${r.status})`);
  console.log('Summary:', JSON.stringify(JSON.parse(r.stdout), null, 2));
  console.log('\nA few retailer_item_price rows:');
  console.log(pg.psql(`SELECT item_id, title, price_cents, promo_price_cents, pack_count || ' x ' || pack_amount || pack_unit AS pack,
    unit_price_cents || '/' || unit_basis AS unit_price, stock_level FROM retailer_item_price WHERE run_id = 'demo-1'
    ORDER BY item_id LIMIT 6`).split('\n').map((l) => `  ${l}`).join('\n'));
  console.log('\nSELECT * FROM pgboss.dashboard():');
  console.log(`  ${pg.psql('SELECT * FROM pgboss.dashboard()') || '(no queues)'}`);
  code = 0;
} catch (e) {
  console.error(`demo: ${e.message}`);
} finally {
  fixture.kill('SIGTERM');
  await pg.destroy();
}
process.exit(code);
