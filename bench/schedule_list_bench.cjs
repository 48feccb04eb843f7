'use strict';
// ListSchedules / CountSchedules latency with many schedules: starts a server (the binary named by
// --bin, else TEMPORALITE_BIN, else build/temporalite) on a temp data directory, creates N
// schedules over gRPC (a Keyword attribute BenchTeam = team-<i % 100>, every 1000th paused; specs
// that never fire during the run), then times, over raw gRPC, each query form `--iterations`
// times and prints the median and p95 in milliseconds:
//   team      ListSchedules  BenchTeam = 'team-7'             (N/100 matches, first page of 100)
//   paused    ListSchedules  TemporalSchedulePaused = true    (N/1000 matches)
//   all       ListSchedules  no query                         (first page of 100)
//   page50    ListSchedules  no query, the 50th page of 100   (page token)
//   count     CountSchedules BenchTeam = 'team-7'
// The setup writes with synchronous=OFF (creation speed is not what is measured).
//
//   node bench/schedule_list_bench.cjs [--schedules 10000] [--iterations 30] [--bin build/temporalite]
const path = require('node:path');
const { Connection } = require('@temporalio/client');
const { startServer, makeTempDir, removeDir } = require('../tests/compat/harness');

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const N = Number(arg('schedules', '10000'));
const ITER = Number(arg('iterations', '30'));
const bin = arg('bin', null);
if (bin) process.env.TEMPORALITE_BIN = path.resolve(bin);
const NS = 'default';

function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))];
  return `median ${at(0.5).toFixed(2)} ms, p95 ${at(0.95).toFixed(2)} ms`;
}

async function time(fn) {
  const out = [];
  await fn(); // warm-up
  for (let i = 0; i < ITER; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

async function main() {
  const dataDir = makeTempDir('temporalite-schedule-bench-');
  const server = await startServer({
    dataDir,
    extraArgs: ['--search-attribute', 'BenchTeam=Keyword', '--sqlite-pragma', 'synchronous=OFF'],
  });
  const connection = await Connection.connect({ address: server.address });
  const svc = connection.workflowService;
  try {
    const t0 = Date.now();
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < N; i = next++) {
        await svc.createSchedule({
          namespace: NS,
          scheduleId: `bench-${String(i).padStart(6, '0')}`,
          requestId: `bench-${i}`,
          schedule: {
            spec: { calendar: [{ year: '2099', month: '1', dayOfMonth: '1', hour: '0', minute: '0', second: '0' }] },
            action: { startWorkflow: { workflowId: `bench-wf-${i}`, workflowType: { name: 'BenchWorkflow' }, taskQueue: { name: 'bench' } } },
            state: { paused: i % 1000 === 0 },
          },
          searchAttributes: {
            indexedFields: {
              BenchTeam: { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(`team-${i % 100}`)) },
            },
          },
        });
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    console.log(`created ${N} schedules in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const list = async (query, pageSize, token) => svc.listSchedules({ namespace: NS, query, maximumPageSize: pageSize, nextPageToken: token });
    const team = await list("BenchTeam = 'team-7'", 100);
    const paused = await list('TemporalSchedulePaused = true', 100);
    if (team.schedules.length !== Math.min(100, N / 100) || paused.schedules.length !== Math.ceil(N / 1000)) {
      throw new Error(`unexpected results: team ${team.schedules.length}, paused ${paused.schedules.length}`);
    }
    let token;
    for (let p = 1; p < 50 && p * 100 < N; p++) token = (await list('', 100, token)).nextPageToken;
    const results = {
      team: await time(() => list("BenchTeam = 'team-7'", 100)),
      paused: await time(() => list('TemporalSchedulePaused = true', 100)),
      all: await time(() => list('', 100)),
      page50: await time(() => list('', 100, token)),
      count: await time(() => svc.countSchedules({ namespace: NS, query: "BenchTeam = 'team-7'" })),
    };
    const c = await svc.countSchedules({ namespace: NS, query: "BenchTeam = 'team-7'" });
    console.log(`count(team-7) = ${c.count}`);
    for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(7)} ${stats(v)}  (${N} schedules, ${ITER} calls)`);
  } finally {
    await connection.close();
    await server.stop('SIGTERM');
    removeDir(dataDir);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
