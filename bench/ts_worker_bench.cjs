'use strict';
// ts_worker_bench: the workflow_with_single_noop_activity scenario with the official TypeScript
// SDK (pinned in package-lock.json): a Worker and a Client in one process keeping --concurrency
// workflows in flight (execute = start + result). Same flags and output lines as sdk_bench.
//   node bench/ts_worker_bench.cjs --address 127.0.0.1:7233 --concurrency 64 --workflows 2000 --warmup 200
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger, Runtime } = require('@temporalio/worker');
const { Connection, Client } = require('@temporalio/client');

function flags() {
  const o = { address: process.env.TEMPORAL_ADDRESS || '127.0.0.1:7233', concurrency: 64, workflows: 2000, warmup: 200 };
  const a = process.argv.slice(2);
  for (let i = 0; i + 1 < a.length; i += 2) {
    const k = a[i].replace(/^--/, '');
    if (k === 'server-pid') continue; // passed by bench/run_workflow_bench.sh; the server's RSS is its report
    if (!(k in o)) throw new Error(`unknown flag ${a[i]}`);
    o[k] = k === 'address' ? a[i + 1] : Number(a[i + 1]);
  }
  return o;
}

function pct(v, p) {
  if (!v.length) return 0;
  const s = [...v].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))];
}

async function main() {
  const o = flags();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'ts_bench_workflows.js'),
    logger: new DefaultLogger('WARN'),
  });
  const nativeConnection = await NativeConnection.connect({ address: o.address });
  const connection = await Connection.connect({ address: o.address });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = `ts-bench-${Date.now()}`;
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle,
    activities: { async noop() {} },
  });
  const running = worker.run();
  let errors = 0;
  const phase = async (count, record, out) => {
    let next = 0;
    const loop = async () => {
      for (let i = next++; i < count; i = next++) {
        const t0 = performance.now();
        try {
          await client.workflow.execute('tsBench', { taskQueue, workflowId: `${taskQueue}-${record}-${i}` });
          if (record) out.push(performance.now() - t0);
        } catch (e) {
          if (errors++ < 5) console.error(`error: ${e}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency, count) }, loop));
  };
  await phase(o.warmup, false, []);
  const lat = [];
  const t0 = performance.now();
  await phase(o.workflows, true, lat);
  const elapsed = (performance.now() - t0) / 1000;
  worker.shutdown();
  await running;
  await nativeConnection.close();
  await connection.close();
  console.log('scenario: workflow_with_single_noop_activity (TypeScript SDK worker + client)');
  console.log(`address: ${o.address}  namespace: default  task_queue: ${taskQueue}`);
  console.log(`concurrency: ${o.concurrency}  workflows: ${o.workflows}  warmup: ${o.warmup}  elapsed_s: ${elapsed.toFixed(2)}`);
  console.log(`throughput_wf_per_s: ${(lat.length / elapsed).toFixed(1)}`);
  console.log(`start_to_close_ms: p50=${pct(lat, 0.5).toFixed(1)} p90=${pct(lat, 0.9).toFixed(1)} p99=${pct(lat, 0.99).toFixed(1)} max=${pct(lat, 1).toFixed(1)}`);
  console.log(`errors: ${errors}\nstatus: ${errors === 0 ? 'ok' : 'FAILED'}`);
  process.exitCode = errors === 0 ? 0 : 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
