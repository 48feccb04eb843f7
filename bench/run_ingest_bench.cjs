'use strict';
// Driver of bench/run_ingest_bench.sh: PostgreSQL + fixture retailer up, ingest_bench, down.
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const { startPostgres } = require('../infra/orchestration/scripts/local-postgres.cjs');

const ROOT = path.resolve(__dirname, '..');
const fs = require('node:fs');

// utime+stime (+cutime+cstime for the postmaster) of the postmaster and its live children, seconds.
function postgresCpuSeconds(postmaster) {
  const tick = 100;  // USER_HZ on Linux
  const fields = (pid) => {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  };
  const f = fields(postmaster);
  let total = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === postmaster) continue;
    try {
      const c = fields(d);
      if (Number(c[1]) === postmaster) total += Number(c[11]) + Number(c[12]);
    } catch {
      // exited meanwhile
    }
  }
  return total / tick;
}

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
    const bench = path.join(ROOT, 'build', 'bench', 'ingest_bench');
    const args = ['--database-url', pg.url(), '--fixture-url', url, ...process.argv.slice(2)];
    // The write path alone first, with PostgreSQL's CPU time for it (the postmaster, its live
    // children and the children it reaped): a figure other load on the machine does not move.
    const cpu0 = postgresCpuSeconds(pg.proc.pid);
    const w = spawnSync(bench, [...args, '--phase', 'write'], { encoding: 'utf8' });
    if (w.error) throw w.error;
    await new Promise((r) => setTimeout(r, 500));
    const cpu1 = postgresCpuSeconds(pg.proc.pid);
    process.stdout.write(w.stdout);
    process.stderr.write(w.stderr);
    const items = Number(/write_path_items=(\d+)/.exec(w.stdout)?.[1] ?? 0);
    if (items > 0) {
      console.log(`write_path postgres_cpu_us_per_item=${((cpu1 - cpu0) * 1e6 / items).toFixed(1)} ` +
        '(PostgreSQL CPU for the write phase; 1e6 / (postgres + client us) = items/s one core sustains)');
    }
    const r = spawnSync(bench, [...args, '--phase', 'runs'], { stdio: 'inherit' });
    if (r.error) throw r.error;
    process.exitCode = w.status || (r.status ?? 1);
  } finally {
    fixture.kill('SIGTERM');
    await pg.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
