'use strict';
// The `temporalite` client commands (issue 5) against the real server binary: the CLI is the
// same binary (env TEMPORALITE_BIN), run with child_process.execFile; stdout, stderr and the exit
// code are checked for text and `-o json` output. An in-process SDK worker (the official
// TypeScript SDK) runs the workflows in ./workflows so that execute/result/describe have real runs.
//
// Schedule commands are in schedule.test.js.
//
// Run: node --test tests/cli/cli.test.js
// Env: TEMPORALITE_BIN (server and CLI binary, default <repo>/build/temporalite); TEMPORALITE_CLI_BIN
// runs the client commands with another binary (e.g. a real `temporal` CLI for comparison).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');

const { startServer, installRuntime, pollUntil, uniqueName, makeTempDir, removeDir, serverBinary } = require(
  '../compat/harness',
);
const { activities } = require('./activities');

const TASK_QUEUE = uniqueName('cli-tq');
const INPUT = '{"storeId":"sixty60-jhb","forceRefresh":true}';

let server;
let nativeConnection;
let worker;
let workerRun;
let workflowBundle;
let cwd; // a clean working directory (no .env) for every CLI run

// ---- helpers ---------------------------------------------------------------------------------

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
function cli(args, { env = {}, dir = cwd, stdin = '', timeoutMs = 30000 } = {}) {
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
    child.stdin.end(stdin);
  });
}

/** Runs a client command against the test server (the address is appended). */
function tl(args, opts) {
  return cli([...args, '--address', server.address], opts);
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

// ---- setup -----------------------------------------------------------------------------------

before(
  async () => {
    installRuntime();
    cwd = makeTempDir('temporalite-cli-cwd-');
    const bundling = bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'workflows', 'index.js'),
      logger: new DefaultLogger('WARN'),
    });
    bundling.catch(() => {});
    server = await startServer();
    nativeConnection = await NativeConnection.connect({ address: server.address });
    workflowBundle = await bundling;
    worker = await Worker.create({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue: TASK_QUEUE,
      workflowBundle,
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
    if (server) {
      const res = await server.stop('SIGTERM');
      if (res && res.escalated) console.error('temporalite did not stop on SIGTERM within 10 s; it was killed');
    }
    removeDir(cwd);
  },
  { timeout: 60000 },
);

// ---- workflow start / describe ---------------------------------------------------------------

test('workflow start --type ... --input prints the running execution; describe shows it (text and JSON)', async () => {
  const id = uniqueName('checkers');
  const out = await ok([
    'workflow', 'start',
    '--type', 'CheckersIngestionWorkflow',
    '--task-queue', TASK_QUEUE,
    '--workflow-id', id,
    '--input', INPUT,
  ]);
  assert.match(out, /^Running execution:$/m);
  assert.match(out, new RegExp(`^  WorkflowId +${id}$`, 'm'));
  assert.match(out, /^ {2}RunId +[0-9a-f-]{36}$/m);
  assert.match(out, /^ {2}Type +CheckersIngestionWorkflow$/m);
  assert.match(out, /^ {2}Namespace +default$/m);
  assert.match(out, new RegExp(`^  TaskQueue +${TASK_QUEUE}$`, 'm'));
  const runId = /RunId +(\S+)/.exec(out)[1];

  // The input went over the wire as one json/plain payload holding exactly the given JSON.
  const history = await okJson(['workflow', 'show', '--workflow-id', id]);
  const started = history.events[0];
  assert.equal(started.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
  const payloads = started.workflowExecutionStartedEventAttributes.input.payloads;
  assert.equal(payloads.length, 1);
  assert.equal(unb64(payloads[0].metadata.encoding), 'json/plain');
  assert.deepEqual(JSON.parse(unb64(payloads[0].data)), { storeId: 'sixty60-jhb', forceRefresh: true });

  await ok(['workflow', 'result', '--workflow-id', id]);
  const text = await ok(['workflow', 'describe', '-w', id]);
  assert.match(text, /^Execution Info:$/m);
  assert.match(text, new RegExp(`^  WorkflowId +${id}$`, 'm'));
  assert.match(text, new RegExp(`^  RunId +${runId}$`, 'm'));
  assert.match(text, /^ {2}Type +CheckersIngestionWorkflow$/m);
  assert.match(text, /^ {2}Status +Completed$/m);
  assert.match(text, /^ {2}StartTime +(now|\d+ seconds? ago)$/m);
  assert.match(text, /^Results:$/m);
  assert.match(text, /^ {2}Status +COMPLETED$/m);
  assert.match(text, /^ {2}Result +\{"storeId":"sixty60-jhb","forceRefresh":true,"items":3\}$/m);
  assert.match(text, /^ {2}ResultEncoding +json\/plain$/m);

  const json = await describeJson(id);
  assert.equal(json.workflowExecutionInfo.execution.workflowId, id);
  assert.equal(json.workflowExecutionInfo.execution.runId, runId);
  assert.equal(json.workflowExecutionInfo.type.name, 'CheckersIngestionWorkflow');
  assert.equal(json.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_COMPLETED');
  assert.equal(json.workflowExecutionInfo.taskQueue, TASK_QUEUE);
  assert.equal(json.closeEvent.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
  assert.deepEqual(json.result, { storeId: 'sixty60-jhb', forceRefresh: true, items: 3 });
});

test('workflow start accepts --workflow as an alias of --type (the runbook form)', async () => {
  const id = uniqueName('runbook');
  const out = await ok([
    'workflow', 'start',
    '--workflow', 'CheckersIngestionWorkflow',
    '--task-queue', TASK_QUEUE,
    '--workflow-id', id,
    '--input', INPUT,
  ]);
  assert.match(out, /^ {2}Type +CheckersIngestionWorkflow$/m);
  const json = await describeJson(id);
  assert.equal(json.workflowExecutionInfo.type.name, 'CheckersIngestionWorkflow');
});

test('workflow start -o json prints the execution as JSON', async () => {
  const id = uniqueName('json-start');
  const json = await okJson(['workflow', 'start', '--type', 'sleeper', '-t', TASK_QUEUE, '-w', id]);
  assert.equal(json.workflowId, id);
  assert.match(json.runId, /^[0-9a-f-]{36}$/);
  assert.equal(json.type, 'sleeper');
  assert.equal(json.namespace, 'default');
  assert.equal(json.taskQueue, TASK_QUEUE);
  await ok(['workflow', 'terminate', '-w', id]);
});

test('workflow start of a running workflow id returns it; --fail-existing makes it an error', async () => {
  const id = await startWorkflow('sleeper');
  const first = (await describeJson(id)).workflowExecutionInfo.execution.runId;
  const again = await tl(['workflow', 'start', '--type', 'sleeper', '-t', TASK_QUEUE, '-w', id]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`RunId +${first}`));
  assert.match(again.stderr, /already running/);
  const fail = await tl(['workflow', 'start', '--type', 'sleeper', '-t', TASK_QUEUE, '-w', id, '--fail-existing']);
  assert.equal(fail.code, 1);
  assert.match(fail.stderr, /^Error: failed starting workflow: .*\(ALREADY_EXISTS\)$/m);
  await ok(['workflow', 'terminate', '-w', id]);
});

test('invalid --input JSON is a usage error (exit 2) and nothing is started', async () => {
  const r = await tl(['workflow', 'start', '--type', 'sleeper', '-t', TASK_QUEUE, '--input', '{"storeId":']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^Error: input #1 is not valid JSON/m);
  assert.equal(r.stdout, '');
});

test('a duration beyond int64 nanoseconds is a usage error (exit 2), not a wrapped negative one', async () => {
  // Found by the cli_input fuzzer: 99999999999999999999h overflowed llround (INT64_MIN), and
  // printing that duration negated INT64_MIN (undefined behaviour).
  const ns = uniqueName('ns-huge-retention');
  const r = await tl(['operator', 'namespace', 'create', '--namespace', ns, '--retention', '99999999999999999999h']);
  assert.equal(r.code, 2, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.match(r.stderr, /^Error: invalid duration "99999999999999999999h" for --retention \(out of range/m);
  const d = await tl(['operator', 'namespace', 'describe', '--namespace', ns]);
  assert.notEqual(d.code, 0, 'the namespace must not have been created');
});

test('a missing required flag is a usage error naming the flag', async () => {
  const r = await tl(['workflow', 'start', '--type', 'sleeper']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--task-queue/);
});

// ---- execute / result ------------------------------------------------------------------------

test('workflow execute follows the run and prints the result', async () => {
  const id = uniqueName('execute');
  const out = await ok([
    'workflow', 'execute',
    '--type', 'CheckersIngestionWorkflow',
    '--task-queue', TASK_QUEUE,
    '--workflow-id', id,
    '--input', INPUT,
  ]);
  assert.match(out, /^Running execution:$/m);
  assert.match(out, /^Progress:$/m);
  assert.match(out, /^ +1 +\S+ +WorkflowExecutionStarted$/m);
  assert.match(out, /ActivityTaskCompleted/);
  assert.match(out, /WorkflowExecutionCompleted$/m);
  assert.match(out, /^Results:$/m);
  assert.match(out, /^ {2}RunTime +\S+$/m);
  assert.match(out, /^ {2}Status +COMPLETED$/m);
  assert.match(out, /^ {2}Result +\{"storeId":"sixty60-jhb","forceRefresh":true,"items":3\}$/m);
});

test('workflow execute -o json prints one result object', async () => {
  const id = uniqueName('execute-json');
  const json = await okJson(['workflow', 'execute', '--type', 'CheckersIngestionWorkflow', '-t', TASK_QUEUE, '-w', id, '-i', INPUT]);
  assert.equal(json.workflowId, id);
  assert.equal(json.status, 'COMPLETED');
  assert.equal(json.type, 'CheckersIngestionWorkflow');
  assert.equal(json.taskQueue, TASK_QUEUE);
  assert.deepEqual(json.result, { storeId: 'sixty60-jhb', forceRefresh: true, items: 3 });
  assert.equal(json.closeEvent.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
});

test('workflow execute of a failing workflow prints the failure and exits 1', async () => {
  const r = await tl(['workflow', 'execute', '--type', 'failingIngestion', '-t', TASK_QUEUE, '-i', '"store offline"']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^ {2}Status +FAILED$/m);
  assert.match(r.stdout, /Message: store offline/);
  assert.match(r.stderr, /^Error: workflow failed$/m);
});

test('workflow result waits for and prints the result (text and JSON)', async () => {
  const id = await startWorkflow('CheckersIngestionWorkflow', ['--input', INPUT]);
  const text = await ok(['workflow', 'result', '--workflow-id', id]);
  assert.match(text, /^Results:$/m);
  assert.match(text, /^ {2}Status +COMPLETED$/m);
  assert.match(text, /"storeId":"sixty60-jhb"/);
  const json = await okJson(['workflow', 'result', '--workflow-id', id]);
  assert.equal(json.status, 'COMPLETED');
  assert.deepEqual(json.result, { storeId: 'sixty60-jhb', forceRefresh: true, items: 3 });
  // Without --run-id the result names the run it reports.
  const desc = await okJson(['workflow', 'describe', '--workflow-id', id]);
  assert.match(json.runId, /^[0-9a-f-]{36}$/);
  assert.equal(json.runId, desc.workflowExecutionInfo.execution.runId);
});

// ---- signal / cancel / terminate -------------------------------------------------------------

test('workflow signal delivers the signal input', async () => {
  const id = await startWorkflow('waitForApproval');
  const out = await ok(['workflow', 'signal', '--workflow-id', id, '--name', 'approve', '--input', '"ops-oncall"']);
  assert.match(out, /^Signal workflow succeeded$/m);
  const json = await okJson(['workflow', 'result', '-w', id]);
  assert.deepEqual(json.result, { approvedBy: 'ops-oncall' });
});

test('workflow show --follow streams events until the run closes', async () => {
  const id = await startWorkflow('waitForApproval');
  const following = tl(['workflow', 'show', '-w', id, '--follow']);
  await new Promise((r) => setTimeout(r, 500));
  await ok(['workflow', 'signal', '-w', id, '--name', 'approve', '--input', '"follower"']);
  const r = await following;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /WorkflowExecutionSignaled/);
  assert.match(r.stdout, /WorkflowExecutionCompleted$/m);
  assert.match(r.stdout, /^ {2}Result +\{"approvedBy":"follower"\}$/m);
});

test('workflow cancel requests cancellation; the run ends CANCELED', async () => {
  const id = await startWorkflow('sleeper');
  const out = await ok(['workflow', 'cancel', '--workflow-id', id]);
  assert.match(out, /^Canceled workflow$/m);
  const r = await tl(['workflow', 'result', '-w', id]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^ {2}Status +CANCELED$/m);
  assert.match(r.stderr, /^Error: workflow canceled$/m);
  const json = await describeJson(id);
  assert.equal(json.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_CANCELED');
});

test('workflow terminate --reason records the reason', async () => {
  const id = await startWorkflow('sleeper');
  const out = await ok(['workflow', 'terminate', '--workflow-id', id, '--reason', 'bad price data']);
  assert.match(out, /^Workflow terminated$/m);
  const text = await ok(['workflow', 'describe', '-w', id]);
  assert.match(text, /^ {2}Status +Terminated$/m);
  assert.match(text, /^ {2}Reason +bad price data$/m);
  const json = await describeJson(id);
  assert.equal(json.closeEvent.workflowExecutionTerminatedEventAttributes.reason, 'bad price data');
});

test('workflow terminate of an unknown workflow fails with NOT_FOUND', async () => {
  const r = await tl(['workflow', 'terminate', '-w', uniqueName('nope')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Error: failed to terminate workflow: .*\(NOT_FOUND\)$/m);
});

// ---- show ------------------------------------------------------------------------------------

test('workflow show prints the event table, --detailed sections, and -o json replays in the SDK', async () => {
  const id = await startWorkflow('CheckersIngestionWorkflow', ['--input', INPUT]);
  await ok(['workflow', 'result', '-w', id]);

  const text = await ok(['workflow', 'show', '--workflow-id', id]);
  assert.match(text, /^Progress:$/m);
  assert.match(text, /^ +ID {2}Time {18}Type$/m);
  const rows = text.split('\n').filter((l) => /^ +\d+ {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}\w+$/.test(l));
  const types = rows.map((l) => l.trim().split(/\s+/)[2]);
  assert.deepEqual(types.slice(0, 4), [
    'WorkflowExecutionStarted',
    'WorkflowTaskScheduled',
    'WorkflowTaskStarted',
    'WorkflowTaskCompleted',
  ]);
  assert.ok(types.includes('ActivityTaskScheduled'));
  assert.equal(types[types.length - 1], 'WorkflowExecutionCompleted');
  assert.match(text, /^ {2}Status +COMPLETED$/m);

  const detailed = await ok(['workflow', 'show', '-w', id, '--detailed']);
  assert.match(detailed, /^-{15} \[1\] WorkflowExecutionStarted -{15}$/m);
  assert.match(detailed, /^input\.payloads\[0\]\.storeId: sixty60-jhb$/m);
  assert.match(detailed, /^workflowType\.name: CheckersIngestionWorkflow$/m);

  const history = await okJson(['workflow', 'show', '-w', id]);
  assert.equal(history.events.length, rows.length);
  assert.equal(history.events[0].eventId, '1');
  assert.equal(history.events.at(-1).eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
  // The official SDK accepts the JSON as a history and replays the workflow against it.
  const parsed = sdkHistoryFromJson(history);
  assert.equal(parsed.events.length, history.events.length);
  await Worker.runReplayHistory({ workflowBundle, replayName: 'cli-show' }, parsed, id);
});

// ---- describe: failures and pending activities ----------------------------------------------

test('workflow describe of a FAILED run shows the failure', async () => {
  const id = await startWorkflow('failingIngestion', ['--input', '"sixty60 catalogue returned 0 items"']);
  const r = await tl(['workflow', 'result', '-w', id]);
  assert.equal(r.code, 1);
  const text = await ok(['workflow', 'describe', '-w', id]);
  assert.match(text, /^ {2}Status +Failed$/m);
  assert.match(text, /^ {2}Status +FAILED$/m);
  assert.match(text, /Message: sixty60 catalogue returned 0 items/);
  assert.match(text, /Type: IngestionError/);
  const json = await describeJson(id);
  assert.equal(json.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_FAILED');
  const failure = json.closeEvent.workflowExecutionFailedEventAttributes.failure;
  assert.equal(failure.message, 'sixty60 catalogue returned 0 items');
  assert.equal(failure.applicationFailureInfo.type, 'IngestionError');
});

test('workflow describe shows pending activities with attempts and the last failure', async () => {
  const id = await startWorkflow('flakyIngestion');
  const text = await pollUntil(
    async () => {
      const out = await ok(['workflow', 'describe', '-w', id]);
      const m = /^ {2}Attempt +(\d+)$/m.exec(out);
      return m && Number(m[1]) >= 2 && /LastFailure/.test(out) ? out : null;
    },
    { timeoutMs: 15000, intervalMs: 200, what: 'pending activity with attempt >= 2' },
  );
  assert.match(text, /^Pending Activities: 1$/m);
  assert.match(text, /^ {2}Type +alwaysFails$/m);
  assert.match(text, /^ {2}LastFailure +upstream 503 from sixty60/m);
  const json = await describeJson(id);
  const act = json.pendingActivities[0];
  assert.equal(act.activityType.name, 'alwaysFails');
  assert.ok(act.attempt >= 2);
  assert.equal(act.lastFailure.message, 'upstream 503 from sixty60');
  await ok(['workflow', 'terminate', '-w', id]);
});

// ---- operator namespace ----------------------------------------------------------------------

test('operator namespace create / describe / list', async () => {
  const ns = uniqueName('cli-ns');
  const created = await ok([
    'operator', 'namespace', 'create',
    '--namespace', ns,
    '--retention', '48h',
    '--description', 'Checkers ingestion',
  ]);
  assert.match(created, new RegExp(`^Namespace ${ns} successfully registered\\.$`, 'm'));

  const text = await ok(['operator', 'namespace', 'describe', '--namespace', ns]);
  assert.match(text, new RegExp(`^  NamespaceInfo\\.Name +${ns}$`, 'm'));
  assert.match(text, /^ {2}NamespaceInfo\.Description +Checkers ingestion$/m);
  assert.match(text, /^ {2}NamespaceInfo\.State +Registered$/m);
  assert.match(text, /^ {2}Config\.WorkflowExecutionRetentionTtl +48h0m0s$/m);

  const json = await okJson(['operator', 'namespace', 'describe', '-n', ns]);
  assert.equal(json.namespaceInfo.name, ns);
  assert.equal(json.config.workflowExecutionRetentionTtl, '172800s');

  const list = await okJson(['operator', 'namespace', 'list']);
  assert.ok(Array.isArray(list));
  const names = list.map((d) => d.namespaceInfo.name);
  assert.ok(names.includes('default'));
  assert.ok(names.includes(ns));
  const listText = await ok(['operator', 'namespace', 'list']);
  assert.match(listText, new RegExp(`^  NamespaceInfo\\.Name +${ns}$`, 'm'));
  const jsonl = await ok(['operator', 'namespace', 'list', '-o', 'jsonl']);
  const lines = jsonl.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, list.length);

  const dup = await tl(['operator', 'namespace', 'create', '-n', ns]);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, new RegExp(`^Error: unable to create namespace ${ns}: .*\\(ALREADY_EXISTS\\)$`, 'm'));
});

test('operator namespace update changes the description', async () => {
  const ns = uniqueName('cli-ns-upd');
  await ok(['operator', 'namespace', 'create', '-n', ns]);
  const out = await ok(['operator', 'namespace', 'update', '-n', ns, '--description', 'updated by CLI']);
  assert.match(out, new RegExp(`Namespace ${ns} update succeeded\\.`));
  const json = await okJson(['operator', 'namespace', 'describe', '-n', ns]);
  assert.equal(json.namespaceInfo.description, 'updated by CLI');
});

// ---- errors and connection settings ----------------------------------------------------------

test('an unknown namespace fails with exit 1 and a clear message', async () => {
  const r = await tl(['workflow', 'describe', '-w', 'whatever', '--namespace', 'no-such-namespace']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^Error: failed describing workflow: .*no-such-namespace.*\(NOT_FOUND\)$/m);
  const d = await tl(['operator', 'namespace', 'describe', '-n', 'no-such-namespace']);
  assert.equal(d.code, 1);
  assert.match(d.stderr, /^Error: unable to describe namespace no-such-namespace: .*\(NOT_FOUND\)$/m);
});

test('an unreachable address fails with exit 1 and "cannot reach"', async () => {
  const port = await closedPort();
  const r = await cli(['workflow', 'describe', '-w', 'x', '--address', `127.0.0.1:${port}`]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim(), `Error: cannot reach 127.0.0.1:${port}: is the server running?`);
  const t = await cli(['operator', 'namespace', 'list', '--address', `127.0.0.1:${port}`, '--command-timeout', '5s']);
  assert.equal(t.code, 1);
  assert.match(t.stderr, /cannot reach/);
});

test('TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE are honoured; flags win over them', async () => {
  const ns = uniqueName('cli-ns-env');
  await ok(['operator', 'namespace', 'create', '-n', ns]);
  const viaEnv = await cli(['operator', 'namespace', 'describe', '-o', 'json'], {
    env: { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: ns },
  });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  assert.equal(JSON.parse(viaEnv.stdout).namespaceInfo.name, ns);

  const port = await closedPort();
  const flagWins = await cli(['operator', 'namespace', 'describe', '--address', server.address, '-n', 'default'], {
    env: { TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_NAMESPACE: ns },
  });
  assert.equal(flagWins.code, 0, flagWins.stderr);
  assert.match(flagWins.stdout, /^ {2}NamespaceInfo\.Name +default$/m);

  const badEnv = await cli(['operator', 'namespace', 'list'], { env: { TEMPORAL_ADDRESS: `127.0.0.1:${port}` } });
  assert.equal(badEnv.code, 1);
  assert.match(badEnv.stderr, new RegExp(`cannot reach 127\\.0\\.0\\.1:${port}`));
});

test('a .env file in the working directory is read; the real environment wins', async () => {
  const ns = uniqueName('cli-ns-dotenv');
  await ok(['operator', 'namespace', 'create', '-n', ns]);
  const dir = makeTempDir('temporalite-cli-dotenv-');
  try {
    fs.writeFileSync(
      path.join(dir, '.env'),
      `# local settings\nexport TEMPORAL_ADDRESS=${server.address} # local\nTEMPORAL_NAMESPACE="${ns}"  # quoted, then a comment\nUNRELATED=1\n`,
    );
    const r = await cli(['operator', 'namespace', 'describe', '-o', 'json'], { dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).namespaceInfo.name, ns);

    const envWins = await cli(['operator', 'namespace', 'describe', '-o', 'json'], {
      dir,
      env: { TEMPORAL_NAMESPACE: 'default' },
    });
    assert.equal(envWins.code, 0, envWins.stderr);
    assert.equal(JSON.parse(envWins.stdout).namespaceInfo.name, 'default');
  } finally {
    removeDir(dir);
  }
});

test('--help works for every command and shows examples', async () => {
  const commands = [
    ['workflow'],
    ['workflow', 'start'], ['workflow', 'execute'], ['workflow', 'describe'], ['workflow', 'list'],
    ['workflow', 'count'], ['workflow', 'show'], ['workflow', 'result'], ['workflow', 'signal'],
    ['workflow', 'signal-with-start'], ['workflow', 'query'], ['workflow', 'stack'], ['workflow', 'cancel'],
    ['workflow', 'terminate'], ['workflow', 'delete'], ['workflow', 'reset'], ['workflow', 'update'],
    ['workflow', 'update', 'execute'], ['workflow', 'update', 'start'], ['workflow', 'update', 'result'],
    ['workflow', 'update', 'describe'],
    ['operator'], ['operator', 'namespace'], ['operator', 'namespace', 'create'],
    ['operator', 'namespace', 'describe'], ['operator', 'namespace', 'list'], ['operator', 'namespace', 'update'],
    ['operator', 'namespace', 'delete'], ['operator', 'search-attribute'],
    ['operator', 'search-attribute', 'create'], ['operator', 'search-attribute', 'list'],
    ['operator', 'search-attribute', 'remove'],
    ['task-queue'], ['task-queue', 'describe'],
  ];
  for (const c of commands) {
    const r = await cli([...c, '--help']);
    assert.equal(r.code, 0, `${c.join(' ')} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`temporalite ${c.join(' ')}`), `${c.join(' ')} --help has an example`);
  }
  const start = await cli(['workflow', 'start', '--help']);
  for (const flag of ['--workflow-id', '--type', '--task-queue', '--input', '--address', '--namespace', '--output', '--tls', '--api-key', '--command-timeout']) {
    assert.ok(start.stdout.includes(flag), `workflow start --help mentions ${flag}`);
  }
});

test('text output has no colour when stdout is not a terminal; --color always forces it', async () => {
  const id = await startWorkflow('sleeper');
  const plain = await ok(['workflow', 'describe', '-w', id]);
  assert.ok(!plain.includes('\x1b['));
  const coloured = await ok(['workflow', 'describe', '-w', id, '--color', 'always']);
  assert.ok(coloured.includes('\x1b[35mExecution Info:\x1b[0m'));
  await ok(['workflow', 'terminate', '-w', id]);
});

// ---- delete, batch, task queues, namespaces ---------------------------------------------------

test('workflow list --status running lists running workflows', async () => {
  const id = await startWorkflow('sleeper');
  try {
    const text = await ok(['workflow', 'list', '--status', 'running']);
    assert.match(text, /^ {2}Status +WorkflowId +Type +StartTime$/m);
    assert.match(text, new RegExp(`^  Running +${id} +sleeper +`, 'm'));
    const json = await okJson(['workflow', 'list', '-q', `WorkflowId='${id}'`]);
    assert.equal(json.length, 1);
    assert.equal(json[0].execution.workflowId, id);
    const limited = await okJson(['workflow', 'list', '--limit', '1']);
    assert.equal(limited.length, 1);
  } finally {
    await tl(['workflow', 'terminate', '-w', id]);
  }
});

test('workflow list aligns its columns by display width with CJK and emoji ids', async () => {
  // Terminal columns of the characters used here: ASCII 1, CJK ideographs 2, the emoji 2.
  const columns = (s) => [...s].reduce((w, ch) => w + (ch.codePointAt(0) < 0x1100 ? 1 : 2), 0);
  const prefix = uniqueName('w');
  const ids = [`${prefix}-ascii-id`, `${prefix}-工作流`, `${prefix}-🚀x`];
  for (const id of ids) {
    await ok(['workflow', 'start', '--type', 'sleeper', '--task-queue', TASK_QUEUE, '--workflow-id', id]);
  }
  try {
    const text = await ok(['workflow', 'list', '-q', `WorkflowId STARTS_WITH '${prefix}'`]);
    const rows = text.split('\n').filter((l) => l.includes(prefix));
    assert.equal(rows.length, 3, text);
    // The Type column ("sleeper") starts at the same terminal column in every row.
    const typeColumn = rows.map((l) => columns(l.slice(0, l.indexOf(' sleeper') + 1)));
    assert.deepEqual(new Set(typeColumn).size, 1, `Type column at ${typeColumn}:\n${rows.join('\n')}`);
  } finally {
    for (const id of ids) await tl(['workflow', 'terminate', '-w', id]);
  }
});

test('workflow list --status rejects an unknown status (exit 2)', async () => {
  const r = await tl(['workflow', 'list', '--status', 'sleeping']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^Error: unknown --status sleeping/m);
});

test('workflow count counts by query, also grouped by status', async () => {
  const type = uniqueName('CountedWorkflow');
  const ids = [await startWorkflow(type), await startWorkflow(type)];
  try {
    const out = await ok(['workflow', 'count', '-q', `WorkflowType='${type}'`]);
    assert.match(out, /^Total: 2$/m);
    await tl(['workflow', 'terminate', '-w', ids[0]]);
    const grouped = await ok(['workflow', 'count', '-q', `WorkflowType='${type}' GROUP BY ExecutionStatus`]);
    assert.match(grouped, /^Total: 2$/m);
    assert.match(grouped, /^Group total: 1, values: Running$/m);
    assert.match(grouped, /^Group total: 1, values: Terminated$/m);
    const bad = await tl(['workflow', 'count', '-q', 'NoSuchAttr = 1']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /column name 'NoSuchAttr' is not a valid search attribute/);
  } finally {
    for (const id of ids) await tl(['workflow', 'terminate', '-w', id]);
  }
});

test('workflow query and stack answer from the worker', async () => {
  const id = await startWorkflow('waitForApproval');
  try {
    const out = await ok(['workflow', 'query', '-w', id, '--name', 'status']);
    assert.match(out, /^ {2}QueryResult +"waiting"$/m);
    const stack = await ok(['workflow', 'stack', '-w', id]);
    assert.match(stack, /Stack trace:/);
  } finally {
    await tl(['workflow', 'terminate', '-w', id]);
  }
});

test('workflow signal-with-start starts and signals', async () => {
  const id = uniqueName('sws');
  const out = await ok(['workflow', 'signal-with-start', '--type', 'waitForApproval', '-t', TASK_QUEUE, '-w', id, '--signal-name', 'approve', '--signal-input', '"sws"']);
  assert.match(out, /^Running execution:$/m);
  const json = await okJson(['workflow', 'result', '-w', id]);
  assert.deepEqual(json.result, { approvedBy: 'sws' });
});

test('workflow update execute returns the update result; a rejected update fails', async () => {
  const id = await startWorkflow('waitForApproval');
  try {
    const out = await ok(['workflow', 'update', 'execute', '-w', id, '--name', 'approve', '--input', '"cli"']);
    assert.match(out, /^ {2}Result +"waiting"$/m);
    const json = await okJson(['workflow', 'result', '-w', id]);
    assert.deepEqual(json.result, { approvedBy: 'cli' });
    const r = await tl(['workflow', 'update', 'execute', '-w', id, '--name', 'noSuchUpdate']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: /m);
  } finally {
    await tl(['workflow', 'terminate', '-w', id]);
  }
});

test('workflow reset to the first workflow task', async () => {
  const id = await startWorkflow('waitForApproval');
  try {
    await pollUntil(async () => (await describeJson(id)).workflowExecutionInfo.historyLength >= 4, { what: 'first workflow task completed' });
    const before = (await describeJson(id)).workflowExecutionInfo.execution.runId;
    const out = await ok(['workflow', 'reset', '-w', id, '--type', 'FirstWorkflowTask', '--reason', 'test']);
    const m = out.match(/new run ID: ([0-9a-f-]{36})/);
    assert.ok(m, out);
    assert.notEqual(m[1], before);
    const info = (await describeJson(id)).workflowExecutionInfo;
    assert.equal(info.execution.runId, m[1], 'the reset run is current');
    const base = await okJson(['workflow', 'describe', '-w', id, '-r', before]);
    assert.equal(base.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_TERMINATED');
    // The reset run is live: a worker runs it to completion.
    await ok(['workflow', 'signal', '-w', id, '--name', 'approve', '--input', '"after-reset"']);
    const json = await okJson(['workflow', 'result', '-w', id]);
    assert.deepEqual(json.result, { approvedBy: 'after-reset' });
  } finally {
    await tl(['workflow', 'terminate', '-w', id]);
  }
});

test('workflow reset --query: a batch reset job, as `temporal workflow reset --query`', async () => {
  const a = await startWorkflow('waitForApproval');
  const b = await startWorkflow('waitForApproval');
  try {
    for (const id of [a, b]) {
      await pollUntil(async () => (await describeJson(id)).workflowExecutionInfo.historyLength >= 4, { what: `${id}'s first workflow task` });
    }
    const before = {};
    for (const id of [a, b]) before[id] = (await describeJson(id)).workflowExecutionInfo.execution.runId;
    const query = `WorkflowId IN ('${a}', '${b}')`;
    // Flag checks as in `temporal`.
    const noType = await tl(['workflow', 'reset', '-q', query, '--reason', 'r', '--yes']);
    assert.equal(noType.code, 2);
    assert.match(noType.stderr, /--type/);
    const withEvent = await tl(['workflow', 'reset', '-q', query, '--type', 'FirstWorkflowTask', '-e', '4', '--reason', 'r', '--yes']);
    assert.equal(withEvent.code, 2);
    // The prompt counts the matches; "n" aborts.
    const declined = await tl(['workflow', 'reset', '-q', query, '--type', 'FirstWorkflowTask', '--reason', 'batch reset'], { stdin: 'n\n' });
    assert.notEqual(declined.code, 0);
    assert.match(declined.stderr, /2 workflow/);
    const out = await ok(['workflow', 'reset', '-q', query, '--type', 'LastWorkflowTask', '--reason', 'batch reset', '--yes']);
    const m = out.match(/^Started batch for job ID: (\S+)$/m);
    assert.ok(m, out);
    await pollUntil(async () => {
      const runs = await Promise.all([a, b].map(async (id) => (await describeJson(id)).workflowExecutionInfo.execution.runId));
      return runs[0] !== before[a] && runs[1] !== before[b];
    }, { timeoutMs: 20000, what: 'both workflows reset' });
    for (const id of [a, b]) {
      const base = await okJson(['workflow', 'describe', '-w', id, '-r', before[id]]);
      assert.equal(base.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_TERMINATED');
      const count = await okJson(['workflow', 'count', '-q', `WorkflowId = '${id}'`]);
      assert.equal(Number(count.count), 2, `${id} reset once`);
    }
    // The reset runs are live: a worker runs them to completion.
    await ok(['workflow', 'signal', '-w', a, '--name', 'approve', '--input', '"after-batch-reset"']);
    assert.deepEqual((await okJson(['workflow', 'result', '-w', a])).result, { approvedBy: 'after-batch-reset' });
  } finally {
    await tl(['workflow', 'terminate', '-w', a]);
    await tl(['workflow', 'terminate', '-w', b]);
  }
});

test('workflow delete removes the execution', async () => {
  const id = await startWorkflow('sleeper');
  const out = await ok(['workflow', 'delete', '-w', id, '--yes']);
  assert.match(out, /^Delete workflow succeeded$/m);
});

test('workflow delete -w does not prompt (only --query batches do), then the workflow is gone', async () => {
  const id = await startWorkflow('sleeper');
  // No terminal and no --yes: it must not wait for or ask a question.
  const out = await ok(['workflow', 'delete', '-w', id], { stdin: '' });
  assert.match(out, /^Delete workflow succeeded$/m);
  const gone = await tl(['workflow', 'describe', '-w', id]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /not found/i);
});

test('batch terminate by query: confirmation prompt, the job runs, the workflows are terminated', async () => {
  const a = await startWorkflow('sleeper');
  const b = await startWorkflow('sleeper');
  const query = `WorkflowId IN ('${a}', '${b}')`;
  // Without --yes the CLI counts the matches for the prompt; "n" aborts and nothing happens.
  const declined = await tl(['workflow', 'terminate', '-q', query, '--reason', 'batch'], { stdin: 'n\n' });
  assert.notEqual(declined.code, 0);
  assert.match(declined.stderr, /2 workflow/);
  const out = await ok(['workflow', 'terminate', '-q', query, '--reason', 'batch'], { stdin: 'y\n' });
  const m = out.match(/^Started batch for job ID: (\S+)$/m);
  assert.ok(m, out);
  await pollUntil(async () => {
    const states = await Promise.all([a, b].map(async (id) => (await okJson(['workflow', 'describe', '-w', id])).workflowExecutionInfo.status));
    return states.every((s) => s === 'WORKFLOW_EXECUTION_STATUS_TERMINATED');
  }, { timeoutMs: 20000, what: 'batch terminated both' });
  const show = await okJson(['workflow', 'show', '-w', a]);
  const last = show.events[show.events.length - 1];
  assert.equal(last.workflowExecutionTerminatedEventAttributes.reason, 'batch');
});

test('batch cancel / terminate: confirmation and flag checks', async () => {
  // Without --yes the CLI counts the matching workflows for the prompt (CountWorkflowExecutions).
  const noSuch = uniqueName('NoSuchType');
  const declined = await tl(['workflow', 'cancel', '-q', `WorkflowType='${noSuch}'`, '--reason', 'r'], { stdin: 'n\n' });
  assert.notEqual(declined.code, 0);
  assert.match(declined.stderr, /Start batch against approximately 0 workflow\(s\)\? y\/N/);
  const bad = await tl(['workflow', 'terminate', '-q', 'NoSuchAttr = 1', '--yes', '--reason', 'r']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /column name 'NoSuchAttr' is not a valid search attribute/);
  const both = await tl(['workflow', 'cancel', '-q', 'x', '-w', 'y']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^Error: cannot set --query when --workflow-id is set$/m);
  const neither = await tl(['workflow', 'cancel']);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /^Error: must set either --workflow-id or --query$/m);
  const jsonPrompt = await tl(['workflow', 'terminate', '-q', 'x', '-o', 'json']);
  assert.equal(jsonPrompt.code, 2);
  assert.match(jsonPrompt.stderr, /--yes/);
});

test('task-queue describe lists the worker as a poller, per type', async () => {
  const out = await ok(['task-queue', 'describe', '--task-queue', TASK_QUEUE]);
  assert.match(out, /^Pollers:$/m);
  assert.match(out, /^Task Queue Statistics:$/m);
  assert.match(out, /UNVERSIONED +workflow +\S+/);
  assert.match(out, /UNVERSIONED +activity +\S+/);
  const json = await okJson(['task-queue', 'describe', '-t', TASK_QUEUE, '--task-queue-type', 'workflow']);
  assert.ok(json.pollers.length >= 1, JSON.stringify(json));
  assert.ok(json.pollers.every((p) => p.taskQueueType === 'workflow' && p.identity && p.ratePerSecond > 0));
  assert.equal(json.stats.length, 1);
});

test('task-queue describe shows the backlog of a queue nobody polls', async () => {
  const queue = uniqueName('cli-tq-idle');
  const id = uniqueName('cli-backlog');
  await ok(['workflow', 'start', '--type', 'sleeper', '--task-queue', queue, '--workflow-id', id]);
  try {
    const json = await okJson(['task-queue', 'describe', '-t', queue, '--task-queue-type', 'workflow']);
    assert.deepEqual(json.pollers, []);
    assert.equal(json.stats[0].approximateBacklogCount, 1);
    assert.ok(json.stats[0].tasksAddRate > 0, JSON.stringify(json.stats));
    const text = await ok(['task-queue', 'describe', '-t', queue, '--task-queue-type', 'workflow']);
    assert.match(text, /UNVERSIONED +workflow +1 +/);
    const none = await tl(['task-queue', 'describe', '-t', '']);
    assert.notEqual(none.code, 0);
  } finally {
    await ok(['workflow', 'terminate', '-w', id]);
  }
});

test('operator search-attribute create / list / remove', async () => {
  const name = `CliAttr${process.pid}`;
  await ok(['operator', 'search-attribute', 'create', '--name', name, '--type', 'Keyword']);
  const list = await ok(['operator', 'search-attribute', 'list']);
  assert.match(list, new RegExp(`^  ${name} +Keyword$`, 'm'));
  await ok(['operator', 'search-attribute', 'remove', '--name', name, '--yes']);
  const after = await ok(['operator', 'search-attribute', 'list']);
  assert.doesNotMatch(after, new RegExp(`^  ${name} `, 'm'));
  const reserved = await tl(['operator', 'search-attribute', 'create', '--name', 'WorkflowId', '--type', 'Keyword']);
  assert.equal(reserved.code, 1);
  assert.match(reserved.stderr, /Search attribute WorkflowId is reserved by system\./);
});

test('operator namespace delete: typed confirmation, then the namespace is gone', async () => {
  const ns = uniqueName('cli-ns-del');
  await ok(['operator', 'namespace', 'create', '-n', ns]);
  const mistyped = await tl(['operator', 'namespace', 'delete', '-n', ns], { stdin: 'wrong\n' });
  assert.equal(mistyped.code, 1);
  assert.match(mistyped.stderr, /^Error: user denied confirmation or mistyped the namespace name$/m);
  await ok(['operator', 'namespace', 'describe', '-n', ns]);
  const typed = await ok(['operator', 'namespace', 'delete', '-n', ns], { stdin: `${ns}\n` });
  assert.match(typed, new RegExp(`Namespace ${ns} has been deleted\\.`));
  const gone = await tl(['operator', 'namespace', 'describe', '-n', ns]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /not found/i);
  const ns2 = uniqueName('cli-ns-del');
  await ok(['operator', 'namespace', 'create', '-n', ns2]);
  const json = await okJson(['operator', 'namespace', 'delete', '-n', ns2, '--yes']);
  assert.match(json.deletedNamespace, new RegExp(`^${ns2}-deleted-[0-9a-f]{5}$`));
  const missing = await tl(['operator', 'namespace', 'delete', '-n', uniqueName('never-created'), '--yes']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /is not found/);
});

// ---- TLS ---------------------------------------------------------------------------------------
// The server speaks plain text; a TLS-terminating proxy (node's tls, ALPN h2) in front of it lets
// the CLI's real TLS paths run end to end: server verification against a private CA, host-name
// checks, and client certificates (mutual TLS). Certificates come from openssl in a temp dir.

function openssl(args, dir) {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd: dir, timeout: 30000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`openssl ${args.join(' ')}: ${stderr}`));
      else resolve(stdout);
    });
  });
}

async function makeCertificates(dir) {
  const subj = (cn) => ['-subj', `/CN=${cn}`];
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', 'ca.key', '-out', 'ca.pem',
    ...subj('temporalite test CA'), '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], dir);
  for (const [name, ext] of [['server', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth'],
    ['client', 'extendedKeyUsage=clientAuth']]) {
    fs.writeFileSync(path.join(dir, `${name}.ext`), `${ext}\n`);
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, ...subj(name)], dir);
    await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
      '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir);
  }
  // A second CA that signed nothing here: trusting it must not make the server trusted.
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', 'other.key', '-out', 'other.pem',
    ...subj('unrelated CA')], dir);
}

/** A TLS proxy to the test server on an ephemeral loopback port. */
function startTlsProxy(dir, { requireClientCert }) {
  const tls = require('node:tls');
  const [host, port] = server.address.split(':');
  const proxy = tls.createServer({
    key: fs.readFileSync(path.join(dir, 'server.key')),
    cert: fs.readFileSync(path.join(dir, 'server.pem')),
    ca: fs.readFileSync(path.join(dir, 'ca.pem')),
    requestCert: requireClientCert,
    rejectUnauthorized: requireClientCert,
    ALPNProtocols: ['h2'],
  }, (socket) => {
    const upstream = net.connect(Number(port), host);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  proxy.on('tlsClientError', () => {});
  return new Promise((resolve) => proxy.listen(0, '127.0.0.1', () => resolve(proxy)));
}

test('TLS: the CLI verifies the server against --tls-ca-path, checks the host name, and sends client certificates', async () => {
  const dir = makeTempDir('tl-tls');
  const proxies = [];
  try {
    await makeCertificates(dir);
    const f = (name) => path.join(dir, name);
    const plainTls = await startTlsProxy(dir, { requireClientCert: false });
    const mutual = await startTlsProxy(dir, { requireClientCert: true });
    proxies.push(plainTls, mutual);
    const at = (p) => `127.0.0.1:${p.address().port}`;
    const describe = (p, extra, opts) => cli(['operator', 'namespace', 'describe', '-n', 'default', '--address', at(p), '-o', 'json', ...extra], opts);

    // Trusted CA: works, and the answer is the real server's.
    let r = await describe(plainTls, ['--tls-ca-path', f('ca.pem')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).namespaceInfo.name, 'default');
    // The same through the environment (TEMPORAL_TLS_SERVER_CA_CERT_PATH implies TLS).
    r = await describe(plainTls, [], { env: { TEMPORAL_TLS_SERVER_CA_CERT_PATH: f('ca.pem') } });
    assert.equal(r.code, 0, r.stderr);
    // Inline PEM data.
    r = await describe(plainTls, ['--tls-ca-data', fs.readFileSync(f('ca.pem'), 'utf8')]);
    assert.equal(r.code, 0, r.stderr);

    // An unrelated CA, or the system roots (--tls): the server is not trusted.
    for (const extra of [['--tls-ca-path', f('other.pem')], ['--tls']]) {
      r = await describe(plainTls, extra);
      assert.equal(r.code, 1, `${extra.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^Error: cannot reach 127\.0\.0\.1:\d+ over TLS/m);
    }
    // Plain text against a TLS endpoint fails with a hint.
    r = await describe(plainTls, []);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /try --tls/);

    // Host name: the certificate names localhost and 127.0.0.1, not this name...
    r = await describe(plainTls, ['--tls-ca-path', f('ca.pem'), '--tls-server-name', 'wrong.example']);
    assert.equal(r.code, 1, r.stderr);
    // ...unless host verification is off (the chain is still checked against the CA).
    r = await describe(plainTls, ['--tls-ca-path', f('ca.pem'), '--tls-server-name', 'wrong.example', '--tls-disable-host-verification']);
    assert.equal(r.code, 0, r.stderr);
    r = await describe(plainTls, ['--tls-server-name', 'localhost', '--tls-ca-path', f('ca.pem')]);
    assert.equal(r.code, 0, r.stderr);

    // Mutual TLS: without a client certificate the handshake is refused; with one it works.
    r = await describe(mutual, ['--tls-ca-path', f('ca.pem')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^Error: cannot reach /m);
    r = await describe(mutual, ['--tls-ca-path', f('ca.pem'), '--tls-cert-path', f('client.pem'), '--tls-key-path', f('client.key')]);
    assert.equal(r.code, 0, r.stderr);
    r = await describe(mutual, [], { env: {
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: f('ca.pem'),
      TEMPORAL_TLS_CLIENT_CERT_PATH: f('client.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: f('client.key'),
    } });
    assert.equal(r.code, 0, r.stderr);
  } finally {
    for (const p of proxies) p.close();
    removeDir(dir);
  }
});
