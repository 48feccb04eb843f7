'use strict';
// How long does an online backup stall writers? Fills a server with workflows (payload bytes
// each), then starts workflows back to back (one at a time, each start = one durable commit)
// before and during `temporalite backup create`, and prints the start latencies of both phases.
//   node bench/backup_pause.js [--workflows 2000] [--payload-kib 32]
const path = require('node:path');
const fs = require('node:fs');
const { Connection, Client } = require('@temporalio/client');
const { startServer, makeTempDir, removeDir } = require('../tests/compat/harness');
const { cli } = require('../tests/ops/ops');

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `n=${s.length} p50=${q(0.5).toFixed(1)} ms p99=${q(0.99).toFixed(1)} ms max=${s[s.length - 1].toFixed(1)} ms`;
}

(async () => {
  const workflows = arg('--workflows', 2000);
  const payload = 'x'.repeat(arg('--payload-kib', 32) * 1024);
  const server = await startServer();
  const backups = makeTempDir('tl-bench-backups-');
  try {
    const conn = await Connection.connect({ address: server.address });
    const client = new Client({ connection: conn, namespace: 'default' });
    const batch = 32;
    for (let i = 0; i < workflows; i += batch) {
      await Promise.all(Array.from({ length: Math.min(batch, workflows - i) }, (_, k) =>
        client.workflow.start('bench', { taskQueue: 'nobody', workflowId: `fill-${i + k}`, args: [payload] })));
    }
    const dbBytes = fs.statSync(path.join(server.dataDir, 'temporalite.db')).size + fs.statSync(path.join(server.dataDir, 'temporalite.db-wal')).size;
    let n = 0;
    const startOne = async () => {
      const t0 = process.hrtime.bigint();
      await client.workflow.start('bench', { taskQueue: 'nobody', workflowId: `probe-${n++}` });
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    const before = [];
    const until = Date.now() + 3000;
    while (Date.now() < until) before.push(await startOne());
    const during = [];
    let running = true;
    const t0 = Date.now();
    const backup = cli(['backup', 'create', '--address', server.address, '--to', backups, '-o', 'json']).then((r) => {
      running = false;
      return r;
    });
    while (running) during.push(await startOne());
    const r = await backup;
    if (r.code !== 0) throw new Error(r.stderr);
    const m = JSON.parse(r.stdout);
    console.log(`database ${(dbBytes / 1048576).toFixed(1)} MiB (db + WAL), ${workflows} workflows`);
    console.log(`backup create: ${Date.now() - t0} ms total, server snapshot (VACUUM INTO) ${m.snapshotDurationMs} ms, ` +
      `compressed ${(m.compressedSizeBytes / 1048576).toFixed(1)} MiB`);
    console.log(`workflow start latency before the backup: ${stats(before)}`);
    console.log(`workflow start latency during the backup: ${stats(during)}`);
    await conn.close();
  } finally {
    await server.stop();
    removeDir(backups);
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
