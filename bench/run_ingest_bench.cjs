'use strict';
// Driver of bench/run_ingest_bench.sh: PostgreSQL + fixture retailer up, ingest_bench, down.
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const { startPostgres } = require('../infra/orchestration/scripts/local-postgres.cjs');

const ROOT = path.resolve(__dirname, '..');

async function main() {
  const pg = await startPostgres();
  const fixture = spawn(path.join(ROOT, 'build', 'fixture-retailer'),
    ['--port', '0', '--store', 'bench-50k=50000', '--store', 'bench-10k=10000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = '';
      fixture.stdout.on('data', (c) => {
        out += c;
        const m = /Fixture retailer: (\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      fixture.once('exit', (c) => reject(new Error(`fixture-retailer exited ${c}`)));
    });
    const r = spawnSync(path.join(ROOT, 'build', 'bench', 'ingest_bench'),
      ['--database-url', pg.url(), '--fixture-url', url, ...process.argv.slice(2)], { stdio: 'inherit' });
    if (r.error) throw r.error;
    process.exitCode = r.status ?? 1;
  } finally {
    fixture.kill('SIGTERM');
    await pg.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
