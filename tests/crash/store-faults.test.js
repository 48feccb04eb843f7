'use strict';
// Storage faults (issue 15, item 2). The server never acknowledges a write that is not durable,
// never loses one it acknowledged, and stops serving with a clear message; then it either waits
// until the data directory takes writes again and re-executes itself (the default: same pid,
// recovered from the database as on any restart), or, with --exit-on-storage-failure, exits with
// status 70 so that a supervisor's restart recovers from the database.
//
//   * Injected faults (tests/faults/fault_vfs.cc: libtemporalite_faults.so, preloaded into the
//     server by the test and armed through TEMPORALITE_FAULT_INJECTION's control file): a write
//     that fails before reaching disk, a disk-full write, a failing fsync, and a commit that
//     reached disk but was reported failed. The server binary itself has no fault code (checked).
//   * While the server waits for writes to succeed again, its gRPC port answers every call with
//     the reason (RESOURCE_EXHAUSTED for a full disk, UNAVAILABLE otherwise) and health is
//     NOT_SERVING (the HTTP API answers 503 likewise): clients and the CLI see a waiting server,
//     not a closed port.
//   * A real disk-full: the data directory is a small tmpfs mounted in a mount namespace of the
//     test's own (unshare -m; root only, as CI runs), filled up with a file: the request is
//     answered RESOURCE_EXHAUSTED, the server stops serving, nothing is corrupted, and once the
//     file is removed the same server process (same pid, re-executed) serves again with every
//     acknowledged workflow and takes new ones.
//
// Run: tests/run-node-tests.sh tests/crash/store-faults.test.js

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');

const grpc = require('@grpc/grpc-js');
const { Connection, Client, WorkflowExecutionAlreadyStartedError } = require('@temporalio/client');
const { startServer, makeTempDir, removeDir, waitForExit, withTimeout, serverBinary, grpcCode, eventTypeName, uniqueName } =
  require('../compat/harness');
const { cleanupsAfterTests, startServerWithFaults } = require('./crash-harness');
const { cli } = require('../cli/cli-harness');

const NS = 'default';
const cleanups = cleanupsAfterTests();

const GRPC_NOT_FOUND = 5;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_INTERNAL = 13;

async function connect(server) {
  // No client-side retries: the test sees the server's own answer to each call.
  const connection = await Connection.connect({ address: server.address, interceptors: [] });
  return { connection, client: new Client({ connection, namespace: NS }) };
}

function startOne(client, workflowId) {
  return client.workflow.start('neverPolled', { taskQueue: 'store-faults', workflowId, retry: undefined });
}

/** The gRPC code of a failed start (the SDK wraps service errors). */
function codeOf(err) {
  return grpcCode(err) ?? grpcCode(err && err.cause);
}

/** Waits (bounded) until the server's stderr matches `re`. */
async function waitForLog(server, re, ms) {
  const deadline = Date.now() + ms;
  while (!re.test(server.stderr())) {
    if (Date.now() > deadline) throw new Error(`no log line ${re} within ${ms} ms\n${server.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** After a storage failure the default server re-executes itself once writes succeed: same pid. */
async function waitForResume(server, ms) {
  await waitForLog(server, /resumed after a storage failure: recovered from the database \(pid (\d+)/, ms);
  const log = server.stderr();
  assert.match(log, /fatal: the database refused a write .*stopped serving until a write in the data directory succeeds/);
  assert.match(log, /re-executing the server \(pid (\d+)\)/);
  assert.equal(Number(/re-executing the server \(pid (\d+)\)/.exec(log)[1]), server.proc.pid, 'the same process');
  assert.equal(Number(/resumed after a storage failure: recovered from the database \(pid (\d+)/.exec(log)[1]), server.proc.pid);
  assert.equal(server.proc.exitCode, null, 'still running');
}

const HEALTH_SERVING = 1;
const HEALTH_NOT_SERVING = 2;

/** grpc.health.v1.Health/Check for `service`: the status enum number (1 SERVING, 2 NOT_SERVING). */
function healthStatus(address, service, credentials = grpc.credentials.createInsecure(), metadata = new grpc.Metadata()) {
  const client = new grpc.Client(address, credentials);
  // HealthCheckRequest { string service = 1; } encoded by hand.
  const name = Buffer.from(service);
  const req = service ? Buffer.concat([Buffer.from([0x0a, name.length]), name]) : Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest('/grpc.health.v1.Health/Check', (b) => b, (b) => b, req, metadata, { deadline: Date.now() + 10000 },
      (err, res) => {
        client.close();
        if (err) return reject(err);
        resolve(res.length >= 2 && res[0] === 0x08 ? res[1] : 0);
      });
  });
}

async function exists(client, workflowId) {
  try {
    await client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (codeOf(err) === GRPC_NOT_FOUND || /not found/i.test(String(err))) return false;
    throw err;
  }
}

const faults = [
  // kind, expected code of the failed request, whether the failed write is on disk afterwards,
  // and whether the server resumes in-process (default) or exits 70 (--exit-on-storage-failure)
  { kind: 'write-fail', code: GRPC_INTERNAL, onDisk: false, resume: true },
  { kind: 'disk-full', code: GRPC_RESOURCE_EXHAUSTED, onDisk: false, resume: false },
  { kind: 'fsync-fail', code: GRPC_INTERNAL, onDisk: undefined, resume: false }, // unsynced data may or may not survive
  { kind: 'sync-lost', code: GRPC_INTERNAL, onDisk: true, resume: true }, // committed but reported failed
];

for (const f of faults) {
  const how = f.resume ? 'the same process resumes' : 'exit 70, restart recovers';
  test(`injected ${f.kind}: not acknowledged, acknowledged writes kept, ${how}`, { timeout: 60000 }, async () => {
    const dataDir = makeTempDir('temporalite-faults-');
    cleanups.push(() => removeDir(dataDir));
    const control = path.join(dataDir, 'FAULT');
    let server = await startServerWithFaults(control, { dataDir, extraArgs: f.resume ? [] : ['--exit-on-storage-failure'] });
    cleanups.push(() => server.stop('SIGKILL'));
    const port = server.port;
    let { connection, client } = await connect(server);
    const acked = [];
    for (let i = 0; i < 3; i++) {
      const id = uniqueName(`acked-${f.kind}`);
      await startOne(client, id);
      acked.push(id);
    }
    await client.workflow.getHandle(acked[0]).signal('hello', 'before the fault');

    fs.writeFileSync(control, f.kind);
    const doomed = uniqueName(`doomed-${f.kind}`);
    const err = await startOne(client, doomed).then(
      () => null,
      (e) => e,
    );
    assert.ok(err, `the start during ${f.kind} must not be acknowledged`);
    assert.equal(codeOf(err), f.code, `code of ${err}`);
    assert.ok(!fs.existsSync(control), 'the fault fired');
    if (f.resume) {
      await waitForResume(server, 20000);
    } else {
      const exit = await waitForExit(server.proc, 15000);
      assert.deepEqual(exit && { code: exit.code }, { code: 70 }, `exit ${JSON.stringify(exit)}\n${server.stderr()}`);
      assert.match(server.stderr(), /fatal: the database refused a write .*exiting with status 70/);
    }
    await connection.close();

    // Restart without faults on the same data (or the re-executed process on its same port).
    if (!f.resume) server = await startServer({ dataDir, port });
    ({ connection, client } = await connect(server));
    cleanups.push(() => connection.close());
    for (const id of acked) assert.ok(await exists(client, id), `acknowledged ${id} kept`);
    const history = await client.workflow.getHandle(acked[0]).fetchHistory();
    assert.ok(history.events.map(eventTypeName).includes('WORKFLOW_EXECUTION_SIGNALED'), 'acknowledged signal kept');
    const doomedExists = await exists(client, doomed);
    if (f.onDisk !== undefined) assert.equal(doomedExists, f.onDisk, `${doomed} on disk after ${f.kind}`);
    // The client's retry settles it either way: started now, or already there.
    await startOne(client, doomed).catch((e) => {
      if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    });
    assert.ok(await exists(client, doomed));
    await server.stop('SIGTERM');
    assert.equal(execFileSync('sqlite3', [path.join(dataDir, 'temporalite.db'), 'PRAGMA integrity_check']).toString().trim(), 'ok');
  });
}

test('the production binary has no fault-injection code: TEMPORALITE_FAULT_INJECTION alone injects nothing', { timeout: 30000 }, async () => {
  const bin = serverBinary();
  const strings = execFileSync('strings', [bin], { maxBuffer: 512 * 1024 * 1024 }).toString();
  assert.doesNotMatch(strings, /TEMPORALITE_FAULT_INJECTION|temporalite-fault|storage fault injection/);
  const symbols = execFileSync('nm', ['-C', bin], { maxBuffer: 512 * 1024 * 1024 }).toString();
  assert.doesNotMatch(symbols, /FaultInjection|fault_vfs|FaultFile/);

  const dataDir = makeTempDir('temporalite-nofaults-');
  cleanups.push(() => removeDir(dataDir));
  const control = path.join(dataDir, 'FAULT');
  process.env.TEMPORALITE_FAULT_INJECTION = control;
  let server;
  try {
    server = await startServer({ dataDir });
  } finally {
    delete process.env.TEMPORALITE_FAULT_INJECTION;
  }
  cleanups.push(() => server.stop('SIGKILL'));
  const { connection, client } = await connect(server);
  cleanups.push(() => connection.close());
  fs.writeFileSync(control, 'write-fail');
  const id = uniqueName('nofaults');
  await startOne(client, id);
  assert.ok(await exists(client, id));
  assert.ok(fs.existsSync(control), 'nothing took the armed fault');
  assert.doesNotMatch(server.stderr(), /fault injection|refused a write/);
  assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
});

const canUnshare = process.getuid && process.getuid() === 0 && fs.existsSync('/usr/bin/unshare') && fs.existsSync('/usr/bin/nsenter');

test('a real disk-full on a small tmpfs: RESOURCE_EXHAUSTED, no corruption, the same process resumes once space is freed',
  { timeout: 120000, skip: !canUnshare && 'needs root, unshare and nsenter (CI runs as root)' }, async () => {
    const dataDir = makeTempDir('temporalite-tmpfs-');
    const scratch = makeTempDir('temporalite-tmpfs-bin-');
    cleanups.push(() => removeDir(dataDir), () => removeDir(scratch));
    // A process holding a private mount namespace with a 6 MB tmpfs on dataDir.
    const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c',
      `mount -t tmpfs -o size=6m tmpfs '${dataDir}' && echo mounted && exec sleep 600`], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => holder.kill('SIGKILL'));
    await withTimeout(new Promise((resolve, reject) => {
      holder.stdout.on('data', (d) => String(d).includes('mounted') && resolve());
      holder.once('exit', (code) => reject(new Error(`unshare exited ${code}`)));
    }), 10000, 'tmpfs mount');
    const inNs = (cmd, args) => execFileSync('nsenter', ['-t', String(holder.pid), '-m', cmd, ...args]).toString();
    assert.match(inNs('findmnt', ['-n', '-o', 'FSTYPE', dataDir]), /tmpfs/);
    // The server runs inside the namespace (nsenter execs it: same pid, signals reach it).
    const wrapper = path.join(scratch, 'temporalite-in-ns');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec nsenter -t ${holder.pid} -m '${serverBinary()}' "$@"\n`, { mode: 0o755 });
    const realBin = process.env.TEMPORALITE_BIN;
    const startInNs = async (opts) => {
      process.env.TEMPORALITE_BIN = wrapper;
      try {
        return await startServer(opts);
      } finally {
        if (realBin === undefined) delete process.env.TEMPORALITE_BIN;
        else process.env.TEMPORALITE_BIN = realBin;
      }
    };

    let server = await startInNs({ dataDir });
    cleanups.push(() => server.stop('SIGKILL'));
    const port = server.port;
    let { connection, client } = await connect(server);
    const acked = [];
    for (let i = 0; i < 5; i++) {
      const id = uniqueName('tmpfs-acked');
      await startOne(client, id);
      acked.push(id);
    }
    // Fill the file system, then keep starting workflows until one is refused.
    const filler = path.join(dataDir, 'filler');
    try {
      inNs('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k']);
    } catch {
      /* dd stops with ENOSPC: expected */
    }
    let refused;
    for (let i = 0; i < 500 && !refused; i++) {
      const id = uniqueName('tmpfs-fill');
      try {
        await startOne(client, id);
        acked.push(id);
      } catch (err) {
        refused = err;
      }
    }
    assert.ok(refused, 'a write on a full disk was refused');
    assert.equal(codeOf(refused), GRPC_RESOURCE_EXHAUSTED, `code of ${refused}`);
    assert.match(String(refused.cause?.details ?? refused.message), /disk|full/i);
    await waitForLog(server, /fatal: the database refused a write .*RESOURCE_EXHAUSTED.*stopped serving/, 15000);
    // While the disk stays full the server keeps waiting (it probes the data directory).
    await waitForLog(server, /a probe write in .* still fails \(RESOURCE_EXHAUSTED/, 15000);
    assert.equal(server.proc.exitCode, null, 'waits, does not exit');
    assert.doesNotMatch(server.stderr(), /re-executing/);
    await connection.close();

    // Meanwhile the port answers, with the reason, and acknowledges nothing: the SDK gets
    // RESOURCE_EXHAUSTED, the CLI prints the reason (not "cannot reach"), health is NOT_SERVING.
    const waiting = new RegExp(`the server's database refused a write \\(.*\\); it resumes once writes succeed in ${dataDir}`);
    // The SDK's connect (it calls GetSystemInfo) fails with the answer's code and reason.
    const refusedConnect = await connect(server).then(() => null, (e) => e);
    assert.equal(codeOf(refusedConnect), GRPC_RESOURCE_EXHAUSTED, `connect: ${refusedConnect}`);
    assert.match(String(refusedConnect.cause?.details), waiting);
    connection = Connection.lazy({ address: server.address, interceptors: [] });
    client = new Client({ connection, namespace: NS });
    const waitingId = uniqueName('tmpfs-waiting');
    const during = await startOne(client, waitingId).then(() => null, (e) => e);
    assert.ok(during, 'nothing is acknowledged while waiting');
    assert.equal(codeOf(during), GRPC_RESOURCE_EXHAUSTED, `code of ${during}`);
    assert.match(String(during.cause?.details ?? during.message), waiting);
    await connection.close();
    for (const args of [['workflow', 'list'], ['workflow', 'start', '--type', 'W', '--task-queue', 'store-faults', '--workflow-id', waitingId]]) {
      const r = await cli([...args, '--address', server.address], { dir: scratch });
      const shown = `temporalite ${args.join(' ')}: exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      assert.equal(r.code, 1, shown);
      assert.match(r.stderr, waiting, shown);
      assert.match(r.stderr, /\(RESOURCE_EXHAUSTED\)/, shown);
      assert.doesNotMatch(r.stderr, /cannot reach|is the server running|lost connection/i, shown);
    }
    assert.equal(await healthStatus(server.address, ''), HEALTH_NOT_SERVING);
    assert.equal(await healthStatus(server.address, 'temporal.api.workflowservice.v1.WorkflowService'), HEALTH_NOT_SERVING);
    // The HTTP API's port answers 503 with the same reason.
    const httpAnswer = await fetch(`${server.httpUrl()}/api/v1/namespaces/${NS}/workflows`, { signal: AbortSignal.timeout(10000) });
    assert.equal(httpAnswer.status, 503);
    const httpBody = await httpAnswer.json();
    assert.equal(httpBody.code, GRPC_RESOURCE_EXHAUSTED);
    assert.match(httpBody.message, waiting);

    // Free the space: the same process (re-executed, same pid and port) has everything
    // acknowledged and takes new work.
    inNs('rm', ['-f', filler]);
    await waitForResume(server, 60000);
    assert.equal(server.port, port);
    ({ connection, client } = await connect(server));
    cleanups.push(() => connection.close());
    for (const id of acked) assert.ok(await exists(client, id), `acknowledged ${id} kept`);
    assert.equal(await exists(client, waitingId), false, 'the calls answered while waiting acknowledged nothing');
    assert.equal(await healthStatus(server.address, ''), HEALTH_SERVING);
    assert.equal((await fetch(`${server.httpUrl()}/api/v1/namespaces/${NS}/workflows`, { signal: AbortSignal.timeout(10000) })).status, 200);
    await startOne(client, uniqueName('tmpfs-after'));
    await server.stop('SIGTERM');
    assert.equal(inNs('sqlite3', [path.join(dataDir, 'temporalite.db'), 'PRAGMA integrity_check']).trim(), 'ok');
  });

// A storage failure that lasts (tests/faults/fault_vfs.cc's eio-until-removed: every database
// write and every fsync, the resume probe's included, fails with EIO until the control file is
// removed), as a failing disk that is then repaired.

const GRPC_UNAVAILABLE = 14;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNAUTHENTICATED = 16;

/** The failed call's { code, details } (the SDK's high-level client wraps the gRPC error). */
function grpcError(err) {
  const g = err && err.code === undefined && err.cause ? err.cause : err;
  return { code: g?.code, details: String(g?.details ?? g?.message) };
}

/** GET `url` (http or https with `ca`) with `headers`: { status, body }. */
function httpGet(url, { ca, headers = {} } = {}) {
  const mod = url.startsWith('https:') ? require('node:https') : require('node:http');
  return withTimeout(new Promise((resolve, reject) => {
    const req = mod.get(url, { headers, ...(ca ? { ca } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
  }), 10000, `GET ${url}`);
}

/**
 * Arms eio-until-removed and makes `client` start a workflow, which the database refuses: the
 * server waits (its probe keeps failing). Returns the refused workflow's id.
 */
async function failStorageUntilRemoved(server, client, control) {
  fs.writeFileSync(control, 'eio-until-removed');
  const doomed = uniqueName('eio-doomed');
  const err = await startOne(client, doomed).then(() => null, (e) => e);
  assert.ok(err, 'the start on a failing disk must not be acknowledged');
  assert.equal(codeOf(err), GRPC_INTERNAL, `code of ${err}`);
  await waitForLog(server, /fatal: the database refused a write .*stopped serving/, 15000);
  await waitForLog(server, /a probe write in .* still fails \(INTERNAL: cannot fsync .*Input\/output error/, 15000);
  assert.ok(fs.existsSync(control), 'the fault persists');
  return doomed;
}

test('a storage failure that lasts: UNAVAILABLE with the cause and health NOT_SERVING while it does; once repaired the same process resumes with everything acknowledged',
  { timeout: 120000 }, async () => {
    const dataDir = makeTempDir('temporalite-eio-');
    cleanups.push(() => removeDir(dataDir));
    const control = path.join(dataDir, 'FAULT');
    const server = await startServerWithFaults(control, { dataDir });
    cleanups.push(() => server.stop('SIGKILL'));
    const port = server.port;
    let { connection, client } = await connect(server);
    const acked = [];
    for (let i = 0; i < 3; i++) {
      const id = uniqueName('eio-acked');
      await startOne(client, id);
      acked.push(id);
    }
    await client.workflow.getHandle(acked[0]).signal('hello', 'before the fault');
    const doomed = await failStorageUntilRemoved(server, client, control);
    await connection.close();

    const waiting = new RegExp(`the server's database refused a write \\(.*I/O error.*\\); it resumes once writes succeed in ${dataDir}`);
    const refusedConnect = await connect(server).then(() => null, (e) => e);
    assert.equal(codeOf(refusedConnect), GRPC_UNAVAILABLE, `connect: ${refusedConnect}`);
    assert.match(String(refusedConnect.cause?.details), waiting);
    connection = Connection.lazy({ address: server.address, interceptors: [] });
    client = new Client({ connection, namespace: NS });
    const waitingId = uniqueName('eio-waiting');
    const during = await startOne(client, waitingId).then(() => null, (e) => e);
    assert.equal(codeOf(during), GRPC_UNAVAILABLE, `code of ${during}`);
    assert.match(grpcError(during).details, waiting);
    await connection.close();
    const r = await cli(['workflow', 'list', '--address', server.address], { dir: dataDir });
    const shown = `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    assert.equal(r.code, 1, shown);
    assert.match(r.stderr, waiting, shown);
    assert.match(r.stderr, /\(UNAVAILABLE\)/, shown);
    assert.doesNotMatch(r.stderr, /cannot reach|is the server running|lost connection/i, shown);
    assert.equal(await healthStatus(server.address, ''), HEALTH_NOT_SERVING);
    assert.equal(await healthStatus(server.address, 'temporal.api.workflowservice.v1.WorkflowService'), HEALTH_NOT_SERVING);
    const httpAnswer = await httpGet(`${server.httpUrl()}/api/v1/namespaces/${NS}/workflows`);
    assert.equal(httpAnswer.status, 503);
    assert.equal(JSON.parse(httpAnswer.body).code, GRPC_UNAVAILABLE);
    assert.match(JSON.parse(httpAnswer.body).message, waiting);
    assert.doesNotMatch(server.stderr(), /re-executing/);
    assert.equal(server.proc.exitCode, null, 'waits, does not exit');

    // Repaired: the same process (re-executed, same pid and port) has everything acknowledged.
    fs.rmSync(control);
    await waitForResume(server, 60000);
    assert.equal(server.port, port);
    ({ connection, client } = await connect(server));
    cleanups.push(() => connection.close());
    for (const id of acked) assert.ok(await exists(client, id), `acknowledged ${id} kept`);
    const history = await client.workflow.getHandle(acked[0]).fetchHistory();
    assert.ok(history.events.map(eventTypeName).includes('WORKFLOW_EXECUTION_SIGNALED'), 'acknowledged signal kept');
    assert.equal(await exists(client, doomed), false, 'the refused start reached no disk');
    assert.equal(await exists(client, waitingId), false, 'the calls answered while waiting acknowledged nothing');
    assert.equal(await healthStatus(server.address, ''), HEALTH_SERVING);
    await startOne(client, uniqueName('eio-after'));
    await server.stop('SIGTERM');
    assert.equal(execFileSync('sqlite3', [path.join(dataDir, 'temporalite.db'), 'PRAGMA integrity_check']).toString().trim(), 'ok');
  });

const WRITER_KEY = 'wrt-0123456789abcdef0123'; // writer on "default"
const OTHER_KEY = 'oth-0123456789abcdef0123'; // writer on "other" only

/**
 * What callers without a usable key get from the server at `server.address` (raw WorkflowService
 * calls through the SDK, health, the HTTP API): compared before the failure and while waiting.
 */
async function unauthorizedAnswers(server) {
  const outcome = (p) => p.then(() => ({ code: 0 }), (e) => grpcError(e));
  const start = async (apiKey, namespace) => {
    const connection = Connection.lazy({ address: server.address, interceptors: [], ...(apiKey ? { apiKey, tls: false } : {}) });
    try {
      return await outcome(connection.workflowService.startWorkflowExecution({
        namespace, workflowId: uniqueName('unauthorized'), workflowType: { name: 'W' }, taskQueue: { name: 'store-faults' },
        requestId: uniqueName('req'),
      }));
    } finally {
      await connection.close();
    }
  };
  const http = await httpGet(`${server.httpUrl()}/api/v1/namespaces/${NS}/workflows`);
  const badHttp = await httpGet(`${server.httpUrl()}/api/v1/namespaces/${NS}/workflows`, { headers: { authorization: 'Bearer not-a-key-0123456789' } });
  const otherHttp = await httpGet(`${server.httpUrl()}/api/v1/namespaces/${NS}/workflows`, { headers: { authorization: `Bearer ${OTHER_KEY}` } });
  return {
    noKey: await start(undefined, NS),
    unknownKey: await start('not-a-key-0123456789', NS),
    otherNamespace: await start(OTHER_KEY, NS),
    http: { status: http.status, body: http.body },
    httpUnknownKey: { status: badHttp.status, body: badHttp.body },
    httpOtherNamespace: { status: otherHttp.status, body: otherHttp.body },
  };
}

/** The audit log's lines from line `from` on, without what differs per call (time, peer port, workflow id). */
function auditLinesFrom(file, from) {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).slice(from);
  return lines.map(({ time, peer, workflowId, ...rest }) => ({ ...rest, peer: peer.replace(/:\d+$/, ''), hasWorkflowId: Boolean(workflowId) }));
}

function auditLineCount(file) {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

test('with API keys the waiting port answers a caller without a valid key or role as the server does (UNAUTHENTICATED, PERMISSION_DENIED, HTTP 401/403) and audits it alike; open routes answer 503; only a valid key is told the cause',
  { timeout: 120000 }, async () => {
    const dataDir = makeTempDir('temporalite-eio-keys-');
    cleanups.push(() => removeDir(dataDir));
    const keyFile = path.join(dataDir, 'keys.txt');
    fs.writeFileSync(keyFile, `ci ${WRITER_KEY} writer@default\nother-team ${OTHER_KEY} writer@other\n`);
    const control = path.join(dataDir, 'FAULT');
    // The audit log outside the failing data directory (its fsyncs fail too, its writes do not).
    const auditFile = path.join(makeTempDir('temporalite-eio-audit-'), 'audit.log');
    cleanups.push(() => removeDir(path.dirname(auditFile)));
    const server = await startServerWithFaults(control, { dataDir, extraArgs: ['--api-key-file', keyFile, '--audit-log-file', auditFile] });
    cleanups.push(() => server.stop('SIGKILL'));
    const connection = await Connection.connect({ address: server.address, interceptors: [], apiKey: WRITER_KEY, tls: false });
    const client = new Client({ connection, namespace: NS });
    const acked = uniqueName('eio-keys-acked');
    await startOne(client, acked);

    let auditFrom = auditLineCount(auditFile);
    const normal = await unauthorizedAnswers(server);
    const normalAudit = auditLinesFrom(auditFile, auditFrom);
    assert.equal(normal.noKey.code, GRPC_UNAUTHENTICATED, JSON.stringify(normal));
    assert.equal(normal.unknownKey.code, GRPC_UNAUTHENTICATED, JSON.stringify(normal));
    assert.equal(normal.otherNamespace.code, GRPC_PERMISSION_DENIED, JSON.stringify(normal));
    assert.equal(normal.http.status, 401, JSON.stringify(normal));
    assert.equal(normal.httpUnknownKey.status, 401, JSON.stringify(normal));
    assert.equal(normal.httpOtherNamespace.status, 403, JSON.stringify(normal));
    assert.deepEqual(normalAudit.map((l) => `${l.method} ${l.outcome} ${l.principal}`).sort(), [
      'ListWorkflowExecutions PERMISSION_DENIED other-team', 'ListWorkflowExecutions UNAUTHENTICATED ',
      'ListWorkflowExecutions UNAUTHENTICATED ', 'StartWorkflowExecution PERMISSION_DENIED other-team',
      'StartWorkflowExecution UNAUTHENTICATED ', 'StartWorkflowExecution UNAUTHENTICATED '].sort(), JSON.stringify(normalAudit));
    assert.equal(await healthStatus(server.address, ''), HEALTH_SERVING, 'health needs no key');
    const systemInfoUrl = `${server.httpUrl()}/api/v1/system-info`;
    assert.equal((await httpGet(systemInfoUrl)).status, 200, 'the system-info route needs no key');

    await failStorageUntilRemoved(server, client, control);
    await connection.close();
    const cause = /refused a write|I\/O error|FAULT|temporalite-eio/;
    auditFrom = auditLineCount(auditFile);
    const duringWait = await unauthorizedAnswers(server);
    assert.deepEqual(duringWait, normal, 'callers without a valid key get what the server answers them');
    assert.doesNotMatch(JSON.stringify(duringWait), cause);
    // The waiting port audits what it denies as the server does (same lines: gRPC and HTTP calls).
    assert.deepEqual(auditLinesFrom(auditFile, auditFrom), normalAudit, 'the audit lines of the denied calls');
    // The HTTP route open without a key answers 503 without the cause (as GetSystemInfo below), not 401.
    const infoHttp = await httpGet(systemInfoUrl);
    assert.equal(infoHttp.status, 503, infoHttp.body);
    assert.equal(JSON.parse(infoHttp.body).code, GRPC_UNAVAILABLE);
    assert.doesNotMatch(infoHttp.body, cause);
    // GetSystemInfo needs no key (the SDK calls it first): without one, no cause either.
    const info = await Connection.connect({ address: server.address, interceptors: [] }).then(() => null, (e) => e);
    assert.equal(codeOf(info), GRPC_UNAVAILABLE, `${info}`);
    assert.doesNotMatch(String(info.cause?.details), cause);
    // Health needs no key on the server: NOT_SERVING (it names no cause).
    assert.equal(await healthStatus(server.address, ''), HEALTH_NOT_SERVING);
    const noKeyCli = await cli(['workflow', 'list', '--address', server.address], { dir: dataDir });
    assert.equal(noKeyCli.code, 1, noKeyCli.stderr);
    assert.match(noKeyCli.stderr, /Request unauthenticated: no API key/);
    assert.doesNotMatch(noKeyCli.stderr, cause);

    // A valid key is told the cause: the SDK, the CLI, the HTTP API.
    const waiting = new RegExp(`the server's database refused a write \\(.*I/O error.*\\); it resumes once writes succeed in ${dataDir}`);
    const keyed = Connection.lazy({ address: server.address, interceptors: [], apiKey: WRITER_KEY, tls: false });
    const during = await startOne(new Client({ connection: keyed, namespace: NS }), uniqueName('eio-keys-waiting')).then(() => null, (e) => e);
    await keyed.close();
    assert.equal(codeOf(during), GRPC_UNAVAILABLE, `${during}`);
    assert.match(grpcError(during).details, waiting);
    const keyedCli = await cli(['workflow', 'list', '--address', server.address, '--tls=false', '--api-key', WRITER_KEY], { dir: dataDir });
    assert.equal(keyedCli.code, 1, keyedCli.stderr);
    assert.match(keyedCli.stderr, waiting);
    const keyedHttp = await httpGet(`${server.httpUrl()}/api/v1/namespaces/${NS}/workflows`, { headers: { authorization: `Bearer ${WRITER_KEY}` } });
    assert.equal(keyedHttp.status, 503);
    assert.match(JSON.parse(keyedHttp.body).message, waiting);
    const keyedInfo = await httpGet(systemInfoUrl, { headers: { authorization: `Bearer ${WRITER_KEY}` } });
    assert.equal(keyedInfo.status, 503);
    assert.match(JSON.parse(keyedInfo.body).message, waiting);

    fs.rmSync(control);
    await waitForResume(server, 60000);
    const after = await Connection.connect({ address: server.address, interceptors: [], apiKey: WRITER_KEY, tls: false });
    cleanups.push(() => after.close());
    assert.ok(await exists(new Client({ connection: after, namespace: NS }), acked));
    assert.deepEqual(await unauthorizedAnswers(server), normal);
    await server.stop('SIGTERM');
  });

test('over TLS the waiting port answers TLS clients with the cause (SDK, CLI, health, HTTPS); a plain-text client does not connect',
  { timeout: 120000 }, async () => {
    const dataDir = makeTempDir('temporalite-eio-tls-');
    cleanups.push(() => removeDir(dataDir));
    const f = (name) => path.join(dataDir, name);
    const openssl = (args) => execFileSync('openssl', args, { cwd: dataDir, stdio: 'pipe' });
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj',
      '/CN=temporalite test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
    fs.writeFileSync(f('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=server']);
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
      '-extfile', 'server.ext', '-out', 'server.pem']);
    const ca = fs.readFileSync(f('ca.pem'));
    const control = f('FAULT');
    const server = await startServerWithFaults(control, {
      dataDir, extraArgs: ['--tls-cert-file', f('server.pem'), '--tls-key-file', f('server.key')],
    });
    cleanups.push(() => server.stop('SIGKILL'));
    const tls = { serverRootCACertificate: ca };
    const connection = await Connection.connect({ address: server.address, interceptors: [], tls });
    const client = new Client({ connection, namespace: NS });
    const acked = uniqueName('eio-tls-acked');
    await startOne(client, acked);
    await failStorageUntilRemoved(server, client, control);
    await connection.close();

    const waiting = new RegExp(`the server's database refused a write \\(.*I/O error.*\\); it resumes once writes succeed in ${dataDir}`);
    const overTls = Connection.lazy({ address: server.address, interceptors: [], tls });
    const during = await startOne(new Client({ connection: overTls, namespace: NS }), uniqueName('eio-tls-waiting')).then(() => null, (e) => e);
    await overTls.close();
    assert.equal(codeOf(during), GRPC_UNAVAILABLE, `${during}`);
    assert.match(grpcError(during).details, waiting);
    const tlsCli = await cli(['workflow', 'list', '--address', server.address, '--tls-ca-path', f('ca.pem')], { dir: dataDir });
    assert.equal(tlsCli.code, 1, tlsCli.stderr);
    assert.match(tlsCli.stderr, waiting);
    assert.match(tlsCli.stderr, /\(UNAVAILABLE\)/);
    assert.equal(await healthStatus(server.address, '', grpc.credentials.createSsl(ca)), HEALTH_NOT_SERVING);
    // Plain text reaches no answer: the TLS port does not speak it.
    const plainCli = await cli(['workflow', 'list', '--address', server.address, '--command-timeout', '5s'], { dir: dataDir });
    assert.equal(plainCli.code, 1, plainCli.stderr);
    assert.doesNotMatch(plainCli.stderr, waiting);
    await assert.rejects(healthStatus(server.address, ''), (e) => e.code === GRPC_UNAVAILABLE && !waiting.test(String(e.details)));
    // The HTTP API is served over TLS too (with the server's certificate).
    const url = server.httpUrl();
    assert.match(url, /^https:/);
    const httpAnswer = await httpGet(`${url}/api/v1/namespaces/${NS}/workflows`, { ca });
    assert.equal(httpAnswer.status, 503);
    assert.match(JSON.parse(httpAnswer.body).message, waiting);

    fs.rmSync(control);
    await waitForResume(server, 60000);
    const after = await Connection.connect({ address: server.address, interceptors: [], tls });
    cleanups.push(() => after.close());
    assert.ok(await exists(new Client({ connection: after, namespace: NS }), acked));
    await server.stop('SIGTERM');
  });
