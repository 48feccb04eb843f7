'use strict';
// Shared setup of the `temporalite` client-command tests (cli-*.test.js): one server and one
// in-process SDK worker (the official TypeScript SDK, running the workflows in ./workflows) per
// test file, registered with useCliServer(), and the helpers that run the CLI binary (env
// TEMPORALITE_BIN; TEMPORALITE_CLI_BIN runs the client commands with another binary, e.g. a real
// `temporal` CLI for comparison) and check its exit code, stdout and stderr.

const { before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');

const { startServer, installRuntime, uniqueName, pollUntil, makeTempDir, removeDir, serverBinary } = require('../compat/harness');
const { activities } = require('./activities');

const TASK_QUEUE = uniqueName('cli-tq');
const INPUT = '{"storeId":"sixty60-jhb","forceRefresh":true}';

/** The file's server, worker bundle and clean working directory (no .env) for every CLI run. */
const state = { server: undefined, workflowBundle: undefined, cwd: undefined };


/** The environment without any TEMPORAL_* variables of the caller (hermetic runs). */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('TEMPORAL_')) env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Runs the CLI with `args` and resolves with {code, stdout, stderr}. Never rejects on a non-zero
 * exit; a run that exceeds `timeoutMs` is killed and reported with code 'timeout'.
 */
function cli(args, { env = {}, dir = state.cwd, stdin = '', timeoutMs = 30000 } = {}) {
  return new Promise((resolve) => {
    const child = execFile(
      process.env.TEMPORALITE_CLI_BIN || serverBinary(),
      args,
      { env: cleanEnv(env), cwd: dir, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        let code = 0;
        if (err) code = err.killed ? 'timeout' : typeof err.code === 'number' ? err.code : String(err.code);
        resolve({ code, stdout, stderr });
      },
    );
    // A CLI that exits before reading its stdin closes the pipe: EPIPE here is not the test's
    // failure (the exit code and output above are what the test checks).
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}

/** Runs a client command against the test server (the address is appended). */
function tl(args, opts) {
  return cli([...args, '--address', state.server.address], opts);
}

/** Like tl() but asserts exit code 0 (showing stderr on failure) and returns stdout. */
async function ok(args, opts) {
  const r = await tl(args, opts);
  assert.equal(r.code, 0, `temporalite ${args.join(' ')} failed (code ${r.code})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r.stdout;
}

async function okJson(args, opts) {
  const out = await ok([...args, '-o', 'json'], opts);
  try {
    return JSON.parse(out);
  } catch (e) {
    throw new Error(`not JSON from temporalite ${args.join(' ')} -o json: ${e.message}\n${out}`);
  }
}

/** Starts workflow `type` with the CLI and returns its workflow id. */
async function startWorkflow(type, extra = []) {
  const id = uniqueName(type);
  await ok(['workflow', 'start', '--type', type, '--task-queue', TASK_QUEUE, '--workflow-id', id, ...extra]);
  return id;
}

async function describeJson(id) {
  return okJson(['workflow', 'describe', '--workflow-id', id]);
}

/** A TCP port on 127.0.0.1 with nothing listening on it. */
async function closedPort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const unb64 = (s) => Buffer.from(s, 'base64').toString('utf8');

/**
 * Parses protobuf JSON of a History into the SDK's History message. (The SDK's own
 * historyFromJSON fails in this install because @temporalio/common bundles a second protobufjs;
 * this does the same with that copy, then re-decodes the bytes with @temporalio/proto.)
 */
function sdkHistoryFromJson(json) {
  const proto = require('@temporalio/proto');
  const commonDir = path.dirname(require.resolve('@temporalio/common/package.json'));
  const pb = require(require.resolve('protobufjs', { paths: [commonDir] }));
  const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [commonDir] }));
  const root = pb.Root.fromJSON(require('@temporalio/proto/protos/json-module.js').toJSON());
  const type = root.lookupType('temporal.api.history.v1.History');
  const message = protojson.fromJson(type, json);
  return proto.temporal.api.history.v1.History.decode(type.encode(message).finish());
}

/**
 * Registers the file's before/after hooks: a server, a worker on TASK_QUEUE running the workflows
 * in ./workflows (the bundle kept in state.workflowBundle for replays), a clean working directory.
 */
function useCliServer() {
  let nativeConnection;
  let worker;
  let workerRun;
  before(
    async () => {
      installRuntime();
      state.cwd = makeTempDir('temporalite-cli-cwd-');
      const bundling = bundleWorkflowCode({
        workflowsPath: path.join(__dirname, 'workflows', 'index.js'),
        logger: new DefaultLogger('WARN'),
      });
      bundling.catch(() => {});
      state.server = await startServer();
      nativeConnection = await NativeConnection.connect({ address: state.server.address });
      state.workflowBundle = await bundling;
      worker = await Worker.create({
        connection: nativeConnection,
        namespace: 'default',
        taskQueue: TASK_QUEUE,
        workflowBundle: state.workflowBundle,
        activities,
        shutdownGraceTime: '1s',
      });
      workerRun = worker.run();
      workerRun.catch(() => {}); // awaited in after()
    },
    { timeout: 90000 },
  );
  after(
    async () => {
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      if (workerRun) await workerRun.catch(() => {});
      if (nativeConnection) await nativeConnection.close().catch(() => {});
      if (state.server) {
        const res = await state.server.stop('SIGTERM');
        if (res && res.escalated) console.error('temporalite did not stop on SIGTERM within 10 s; it was killed');
      }
      removeDir(state.cwd);
    },
    { timeout: 60000 },
  );
}

// Everything a cli-*.test.js file takes from here, with the compat harness helpers they use, so
// that each file has one require for its helpers.
module.exports = {
  // the file's server and worker
  TASK_QUEUE, INPUT, state, useCliServer,
  // running the CLI
  cleanEnv, cli, tl, ok, okJson, closedPort,
  // workflows through the CLI
  startWorkflow, describeJson, unb64, sdkHistoryFromJson,
  // from ../compat/harness
  uniqueName, pollUntil, makeTempDir, removeDir,
};
