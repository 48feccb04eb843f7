'use strict';
// Interop between the C++ SDK and the official TypeScript SDK (1.24) on the real server: a TS
// client runs C++ workflows (results, failures with types and details, signals, queries,
// updates with a validator), and a C++ workflow calls TS activities on another task queue
// (results and ApplicationFailure round-trip through ActivityFailure); a TS workflow calls a C++
// activity; children across the languages both ways; a C++ worker SIGKILLed mid-workflow and
// restarted finishes it from history without duplicated commands; a C++ client signals, queries
// and updates a TS workflow and a C++ workflow signals one; a zlib payload codec on both sides
// (the server stores only encoded payloads); the Web UI's history.json download replays in the
// C++ Replayer.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFile } = require('node:child_process');
const test = require('node:test');

const { Connection, Client, WorkflowFailedError, WorkflowUpdateFailedError } = require('@temporalio/client');
const { ApplicationFailure, ActivityFailure } = require('@temporalio/common');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');
const { startServer, installRuntime, pollUntil, uniqueName } = require('../compat/harness');
const { zlibCodec } = require('./zlib-codec');

const CPP_WORKER = process.env.SDK_INTEROP_WORKER || path.join(__dirname, '..', '..', 'build', 'tests', 'sdk_interop_worker');

let server, connection, client, nativeConnection, tsWorker, tsWorkerRun, cpp;

test.before(async () => {
  installRuntime();
  const bundling = bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'workflows', 'index.js'),
    logger: new DefaultLogger('WARN'),
  });
  bundling.catch(() => {});
  server = await startServer();
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: 'default' });
  nativeConnection = await NativeConnection.connect({ address: server.address });
  tsWorker = await Worker.create({
    connection: nativeConnection,
    taskQueue: 'ts-interop',
    workflowBundle: await bundling,
    activities: {
      async tsUpper(s) {
        return s.toUpperCase();
      },
      async tsFail() {
        throw ApplicationFailure.nonRetryable('ts broke', 'TsError', { at: 'ts' });
      },
    },
  });
  tsWorkerRun = tsWorker.run();
  cpp = spawn(CPP_WORKER, [], { env: { ...process.env, TEMPORAL_ADDRESS: server.address }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  cpp.stdout.on('data', (d) => (out += d));
  await pollUntil(() => out.includes('ready'), { timeoutMs: 15000, what: 'C++ worker ready' });
}, { timeout: 120000 });

test.after(async () => {
  if (cpp) {
    cpp.kill('SIGTERM');
    await new Promise((resolve) => (cpp.exitCode !== null ? resolve() : cpp.on('exit', resolve)));
  }
  if (tsWorker) {
    tsWorker.shutdown();
    await tsWorkerRun.catch(() => {});
  }
  if (nativeConnection) await nativeConnection.close().catch(() => {});
  if (connection) await connection.close().catch(() => {});
  if (server) await server.stop('SIGTERM');
}, { timeout: 60000 });

test('a TS client runs a C++ workflow that calls a TS activity', { timeout: 30000 }, async () => {
  const result = await client.workflow.execute('CppGreet', {
    taskQueue: 'cpp-interop',
    workflowId: uniqueName('greet'),
    args: ['ada'],
  });
  assert.equal(result, 'Hello, ADA');
});

test('a C++ ApplicationFailure reaches the TS client with type, non-retryable and details', { timeout: 30000 }, async () => {
  const err = await client.workflow
    .execute('CppFail', { taskQueue: 'cpp-interop', workflowId: uniqueName('fail'), args: ['cpp broke'] })
    .catch((e) => e);
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
  assert.equal(err.cause.type, 'CppError');
  assert.equal(err.cause.message, 'cpp broke');
  assert.equal(err.cause.nonRetryable, true);
  assert.deepEqual(err.cause.details, [{ code: 42 }]);
});

test('a TS activity failure reaches the C++ workflow and back as ActivityFailure(ApplicationFailure)', { timeout: 30000 }, async () => {
  const err = await client.workflow
    .execute('CppCallsFailingTs', { taskQueue: 'cpp-interop', workflowId: uniqueName('tsfail') })
    .catch((e) => e);
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ActivityFailure, String(err.cause));
  assert.equal(err.cause.activityType, 'tsFail');
  assert.ok(err.cause.cause instanceof ApplicationFailure, String(err.cause.cause));
  assert.equal(err.cause.cause.type, 'TsError');
  assert.equal(err.cause.cause.message, 'ts broke');
  assert.deepEqual(err.cause.cause.details, [{ at: 'ts' }]);
});

test('signals, queries and updates from TS to a C++ workflow', { timeout: 30000 }, async () => {
  const handle = await client.workflow.start('CppMessages', { taskQueue: 'cpp-interop', workflowId: uniqueName('msg') });
  await handle.signal('add', 5);
  await pollUntil(async () => (await handle.query('total')) === 5, { timeoutMs: 10000, what: 'total 5' });
  assert.equal(await handle.executeUpdate('double'), 10);
  assert.equal(await handle.executeUpdate('set', { args: [7] }), 7);
  const rejected = await handle.executeUpdate('set', { args: [-1] }).catch((e) => e);
  assert.ok(rejected instanceof WorkflowUpdateFailedError, String(rejected));
  assert.equal(rejected.cause.type, 'ValidationError');
  await handle.signal('add', 1);
  await handle.signal('done');
  assert.equal(await handle.result(), 8);
});

test('a TS workflow calls a C++ activity', { timeout: 30000 }, async () => {
  const r = await client.workflow.execute('tsCallsCpp', { taskQueue: 'ts-interop', workflowId: uniqueName('ts-calls-cpp'), args: ['quiet'] });
  assert.equal(r, 'QUIET!');
});

test('a TS parent runs a C++ child, and a C++ parent a TS child', { timeout: 30000 }, async () => {
  const a = await client.workflow.execute('tsParentOfCpp', { taskQueue: 'ts-interop', workflowId: uniqueName('ts-parent'), args: ['ada'] });
  assert.equal(a, 'TS parent got: Hello, ADA');
  const b = await client.workflow.execute('CppParentOfTs', { taskQueue: 'cpp-interop', workflowId: uniqueName('cpp-parent'), args: ['bo'] });
  assert.equal(b, 'C++ parent got: ts child of bo');
});

test('a C++ worker SIGKILLed mid-workflow and restarted completes it without duplicated commands', { timeout: 90000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-kill-'));
  const effects = path.join(dir, 'effects');
  fs.writeFileSync(effects, '');
  const env = { ...process.env, TEMPORAL_ADDRESS: server.address, SDK_INTEROP_SIDE_EFFECTS: effects };
  const startWorker = async () => {
    const p = spawn(CPP_WORKER, ['cpp-kill'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    await pollUntil(() => out.includes('ready'), { timeoutMs: 15000, what: 'C++ worker ready' });
    return p;
  };
  const lines = () => fs.readFileSync(effects, 'utf8').split('\n').filter(Boolean).map(Number);
  let w = await startWorker();
  try {
    const n = 10;
    const h = await client.workflow.start('CppSteps', { taskQueue: 'cpp-kill', workflowId: uniqueName('cpp-kill'), args: [n] });
    await pollUntil(() => lines().length >= 3, { timeoutMs: 20000, what: 'three steps done' });
    w.kill('SIGKILL');
    await new Promise((resolve) => (w.exitCode !== null || w.signalCode !== null ? resolve() : w.on('exit', resolve)));
    const before = lines().length;
    assert.ok(before < n, `killed too late (${before} steps done)`);
    w = await startWorker();
    assert.equal(await h.result(), (n * (n - 1)) / 2);
    const done = lines();
    for (let i = 0; i < n; i++) assert.ok(done.includes(i), `step ${i} ran`);
    // Activities are at-least-once: only the step in flight at the kill may have run twice.
    assert.ok(done.length <= n + 1, `steps ran ${done.length} times`);
    const scheduled = [];
    const hist = await h.fetchHistory();
    for (const e of hist.events) {
      if (e.activityTaskScheduledEventAttributes) scheduled.push(e.activityTaskScheduledEventAttributes.activityId);
    }
    assert.equal(scheduled.length, n, 'one ScheduleActivityTask command per step');
    assert.equal(new Set(scheduled).size, n);
  } finally {
    w.kill('SIGTERM');
    await new Promise((resolve) => (w.exitCode !== null || w.signalCode !== null ? resolve() : w.on('exit', resolve)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// The C++ binary in one of its one-shot modes; resolves with its stdout (rejects on exit != 0).
function runCpp(args, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(CPP_WORKER, args, { env: { ...process.env, TEMPORAL_ADDRESS: server.address, ...env }, timeout: 60000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout)));
  });
}

test('a C++ client signals, queries and updates a TS workflow', { timeout: 60000 }, async () => {
  const handle = await client.workflow.start('tsMessages', { taskQueue: 'ts-interop', workflowId: uniqueName('ts-msg') });
  const seen = JSON.parse((await runCpp(['client-msgs', handle.workflowId])).trim());
  assert.equal(seen.queried, 5);
  assert.equal(seen.doubled, 10);
  assert.equal(seen.set, 7);
  assert.match(seen.rejected, /^ValidationError: negative value/);
  assert.notEqual(seen.badQuery, 'answered');
  assert.equal(seen.result, 7);
  assert.equal(await handle.result(), 7);
});

test('a C++ workflow signals a TS workflow', { timeout: 30000 }, async () => {
  const ts = await client.workflow.start('tsMessages', { taskQueue: 'ts-interop', workflowId: uniqueName('ts-signalled') });
  const r = await client.workflow.execute('CppSignalsTs', { taskQueue: 'cpp-interop', workflowId: uniqueName('cpp-signals'), args: [ts.workflowId] });
  assert.equal(r, `signalled ${ts.workflowId}`);
  await pollUntil(async () => (await ts.query('total')) === 2, { timeoutMs: 10000, what: 'the TS workflow saw the signal' });
  await ts.signal('done');
  assert.equal(await ts.result(), 2);
});


test('a zlib payload codec on a TS client and a C++ worker: the server stores only encoded payloads', { timeout: 60000 }, async () => {
  const w = spawn(CPP_WORKER, ['cpp-codec'], {
    env: { ...process.env, TEMPORAL_ADDRESS: server.address, SDK_INTEROP_CODEC: 'zlib' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let out = '';
    w.stdout.on('data', (d) => (out += d));
    await pollUntil(() => out.includes('ready'), { timeoutMs: 15000, what: 'C++ codec worker ready' });
    const coded = new Client({ connection, namespace: 'default', dataConverter: { payloadCodecs: [zlibCodec] } });
    const handle = await coded.workflow.start('CppMessages', { taskQueue: 'cpp-codec', workflowId: uniqueName('codec-msg') });
    await handle.signal('add', 5);
    await pollUntil(async () => (await handle.query('total')) === 5, { timeoutMs: 10000, what: 'total 5' });
    assert.equal(await handle.executeUpdate('double'), 10);
    const rejected = await handle.executeUpdate('set', { args: [-1] }).catch((e) => e);
    assert.ok(rejected instanceof WorkflowUpdateFailedError, String(rejected));
    assert.equal(rejected.cause.type, 'ValidationError');
    await handle.signal('done');
    assert.equal(await handle.result(), 10);

    const err = await coded.workflow
      .execute('CppFail', { taskQueue: 'cpp-codec', workflowId: uniqueName('codec-fail'), args: ['secret'] })
      .catch((e) => e);
    assert.ok(err instanceof WorkflowFailedError, String(err));
    assert.equal(err.cause.type, 'CppError');
    assert.deepEqual(err.cause.details, [{ code: 42 }]);

    // Without the codec: every stored payload is binary/zlib and the result is unreadable.
    const plainHandle = client.workflow.getHandle(handle.workflowId);
    const encodings = [];
    const visit = (v) => {
      if (!v || typeof v !== 'object' || ArrayBuffer.isView(v)) return;
      if (v.metadata && v.metadata.encoding && 'data' in v) {
        encodings.push(Buffer.from(v.metadata.encoding).toString());
        return;
      }
      for (const [k, x] of Object.entries(v)) if (k !== 'searchAttributes') visit(x);
    };
    visit((await plainHandle.fetchHistory()).events);
    // the signal's argument, the update's result and the workflow's result at least
    assert.ok(encodings.length >= 3, `payloads in history: ${encodings.length}`);
    assert.deepEqual([...new Set(encodings)], ['binary/zlib']);
    await assert.rejects(plainHandle.result(), /binary\/zlib|encoding/i);
  } finally {
    w.kill('SIGTERM');
    await new Promise((resolve) => (w.exitCode !== null || w.signalCode !== null ? resolve() : w.on('exit', resolve)));
  }
});

test("the Web UI's history.json download replays in the C++ Replayer", { timeout: 60000 }, async () => {
  const m = /HTTP:\s+http:\/\/[^:]+:(\d+)/.exec(server.stdout());
  assert.ok(m, 'the server prints its HTTP port');
  const download = async (h) => {
    const desc = await h.describe();
    const url = `http://127.0.0.1:${m[1]}/api/v1/namespaces/default/workflows/${encodeURIComponent(h.workflowId)}/run/${desc.runId}/history.json`;
    const resp = await fetch(url);
    assert.equal(resp.status, 200);
    return resp.text();
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-replay-'));
  try {
    const good = client.workflow.getHandle((await client.workflow.start('CppGreet', {
      taskQueue: 'cpp-interop', workflowId: uniqueName('replay-greet'), args: ['ada'] })).workflowId);
    assert.equal(await good.result(), 'Hello, ADA');
    const goodFile = path.join(dir, 'good.json');
    fs.writeFileSync(goodFile, await download(good));
    assert.ok(Array.isArray(JSON.parse(fs.readFileSync(goodFile, 'utf8'))), 'the download is an array of events');
    assert.equal((await runCpp(['replay', goodFile, good.workflowId])).trim(), 'replayed');
    // A history of a workflow type the replayer does not have: the replay fails.
    const bad = await client.workflow.start('CppFail', { taskQueue: 'cpp-interop', workflowId: uniqueName('replay-fail'), args: ['x'] });
    await bad.result().catch(() => {});
    const badFile = path.join(dir, 'bad.json');
    fs.writeFileSync(badFile, await download(bad));
    await assert.rejects(runCpp(['replay', badFile, bad.workflowId]), /replay failed: .*CppFail/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
