'use strict';
// Hardening: hostile or unlucky input a new user can produce, each against the real binary.
// List filters that used to crash the server or leak SQLite errors, a second server on the same
// port or on the same database through a symlink, a damaged database file, health checks by
// service name.
//
// Run: tests/run-node-tests.sh tests/hardening/hardening.test.js

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { randomUUID } = require('node:crypto');

const grpc = require('@grpc/grpc-js');
const { Connection } = require('@temporalio/client');

const { startServer, makeTempDir, removeDir, serverBinary, expectGrpcError, uniqueName, lenField } = require('../compat/harness');

const NS = 'default';
const Code = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, INTERNAL: 13 };

let server;
let connection;
const svc = () => connection.workflowService;

before(
  async () => {
    server = await startServer({
      extraArgs: ['--search-attribute', 'Tags=KeywordList', '--search-attribute', 'Note=Text',
        '--search-attribute', 'Kw=Keyword'],
    });
    connection = await Connection.connect({ address: server.address });
  },
  { timeout: 30000 },
);

after(
  async () => {
    if (connection) await connection.close().catch(() => {});
    if (server) await server.stop('SIGTERM');
  },
  { timeout: 30000 },
);

function list(query) {
  return svc().listWorkflowExecutions({ namespace: NS, pageSize: 10, query });
}

async function startWorkflow(workflowId, extra = {}) {
  return svc().startWorkflowExecution({
    namespace: NS,
    workflowId,
    workflowType: { name: 'hardeningWorkflow' },
    taskQueue: { name: 'hardening-tq' },
    requestId: randomUUID(),
    ...extra,
  });
}

/** Runs the binary with `args` until it exits (bounded); resolves {code, signal, stdout, stderr}. */
function runToExit(args, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const proc = spawn(serverBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => (stdout += c));
    proc.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`did not exit within ${timeoutMs} ms: ${args.join(' ')}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

test('a list filter nested 5,000 deep is INVALID_ARGUMENT, and the server keeps serving', async () => {
  const q = '('.repeat(5000) + "WorkflowId='x'" + ')'.repeat(5000);
  await expectGrpcError(list(q), Code.INVALID_ARGUMENT, /^invalid query: malformed SQL query: max nesting level reached at position \d+ near '\('/);
  await expectGrpcError(list('NOT '.repeat(5000) + "WorkflowId='x'"), Code.INVALID_ARGUMENT, /max nesting level reached/);
  const res = await list("WorkflowId='x'");
  assert.equal(res.executions.length, 0);
  assert.equal(server.proc.exitCode, null, 'server still running');
});

test('redundant parentheses and long OR chains reach SQLite flattened; over the limits is INVALID_ARGUMENT', async () => {
  const ids = [];
  for (let i = 0; i < 3; i++) {
    ids.push(uniqueName('chain'));
    await startWorkflow(ids[i]);
  }
  // 89 levels of parentheses used to overflow SQLite's parser stack (UNAVAILABLE).
  const deep = await list('('.repeat(89) + `WorkflowId='${ids[0]}'` + ')'.repeat(89));
  assert.deepEqual(deep.executions.map((e) => e.execution.workflowId), [ids[0]]);
  // 1,000 ORed terms used to give "Expression tree is too large" (UNAVAILABLE).
  const terms = [];
  for (let i = 0; i < 997; i++) terms.push(`WorkflowId='nope-${i}'`);
  for (const id of ids) terms.push(`WorkflowId='${id}'`);
  const count = await svc().countWorkflowExecutions({ namespace: NS, query: terms.join(' OR ') });
  assert.equal(Number(count.count), 3);
  await expectGrpcError(
    list(terms.join(' OR ') + " OR WorkflowId='one-too-many'"),
    Code.INVALID_ARGUMENT,
    /^invalid query: operation is not supported: more than 1000 conditions in one query$/,
  );
  const values = Array.from({ length: 10001 }, (_, i) => `'v${i}'`).join(',');
  await expectGrpcError(list(`WorkflowId IN (${values})`), Code.INVALID_ARGUMENT, /more than 10000 values/);
});

test('the deepest and largest filter the parser accepts runs in SQLite', async () => {
  const id = uniqueName('worst');
  await startWorkflow(id);
  // The most parser-stack-hungry predicates: KeywordList and Text negations (subqueries, LIKEs).
  const leaves = [
    "Tags NOT IN ('a', 'b')",
    "Note != 'hello world'",
    "WorkflowId NOT STARTS_WITH 'zz'",
    "Kw NOT BETWEEN 'a' AND 'b'",
    'Tags IS NULL',
  ];
  // 8 levels (the limit): OR, AND, NOT, OR, AND, NOT, OR, AND; then a chain under the top AND
  // that brings it to 1,000 conditions.
  let q = `WorkflowId = '${id}'`;
  let n = 1;
  for (let d = 0; d < 8; d++) {
    const leaf = leaves[d % leaves.length];
    if (d % 3 === 2) {
      q = `NOT (${q})`;
    } else {
      n++;
      q = `(${leaf} ${d % 3 === 0 ? 'OR' : 'AND'} (${q}))`;
    }
  }
  const chain = [q];
  while (n < 1000) chain.push(leaves[n++ % leaves.length].replace('zz', `zz${n}`));
  const res = await svc().countWorkflowExecutions({ namespace: NS, query: chain.join(' AND ') });
  assert.equal(typeof Number(res.count), 'number');
  // One more level is refused by the parser, not by SQLite.
  const leaf = leaves[0];
  await expectGrpcError(list(`(${leaf} OR (${q}))`), Code.INVALID_ARGUMENT, /max nesting level reached/);
});

test('a second server on a port in use exits with a clear message', async () => {
  const dir = makeTempDir();
  try {
    const res = await runToExit([
      'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(server.port), '--headless',
      '--db-filename', path.join(dir, 'temporalite.db'), '--log-format', 'json',
    ]);
    assert.notEqual(res.code, 0, `second server must fail; stdout:\n${res.stdout}\nstderr:\n${res.stderr}`);
    assert.match(res.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${server.port} \\(is another server running\\?\\)`));
    assert.doesNotMatch(res.stdout, /Server:/);
    // With --log-format json, gRPC's own log lines (the failed bind) and the error that ends the
    // start are JSON too.
    const lines = res.stderr.split('\n').filter(Boolean);
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line}`);
    const last = JSON.parse(lines.at(-1));
    assert.equal(last.level, 'error');
    assert.match(last.msg, /^cannot listen on 127\.0\.0\.1:\d+ \(is another server running\?\)$/);
  } finally {
    removeDir(dir);
  }
  // The first server still answers.
  assert.equal((await list("WorkflowId='x'")).executions.length, 0);
});

test('a second server on the same database through a symlink is refused', async () => {
  const other = makeTempDir();
  try {
    fs.symlinkSync(path.join(server.dataDir, 'temporalite.db'), path.join(other, 'temporalite.db'));
    const res = await runToExit([
      'server', 'start-dev', '--ip', '127.0.0.1', '--port', '0', '--headless',
      '--db-filename', path.join(other, 'temporalite.db'),
    ]);
    assert.notEqual(res.code, 0, `second server must fail; stdout:\n${res.stdout}\nstderr:\n${res.stderr}`);
    assert.match(res.stderr, /in use by another temporalite server \(pid \d+\)/);
    assert.doesNotMatch(res.stdout, /Server:/);
  } finally {
    removeDir(other);
  }
});

test('a damaged database is refused at start, naming the restore command', async () => {
  const dir = makeTempDir();
  const db = path.join(dir, 'temporalite.db');
  try {
    const s = await startServer({ dataDir: dir });
    const c = await Connection.connect({ address: s.address });
    const memo = { fields: { blob: { metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.alloc(3000, 7) } } };
    for (let i = 0; i < 60; i++) {
      await c.workflowService.startWorkflowExecution({
        namespace: NS, workflowId: `damaged-${i}`, workflowType: { name: 'W' }, taskQueue: { name: 'q' },
        requestId: randomUUID(), memo,
      });
    }
    await c.close();
    const stopped = await s.stop('SIGTERM');
    assert.equal(stopped.code, 0);
    const size = fs.statSync(db).size;
    assert.ok(size > 100 * 1024, `database is ${size} bytes`);
    const fd = fs.openSync(db, 'r+');
    fs.writeSync(fd, Buffer.alloc(3 * 4096, 0xa5), 0, 3 * 4096, Math.floor(size / 8192) * 4096);
    fs.closeSync(fd);

    const res = await runToExit(['server', 'start-dev', '--ip', '127.0.0.1', '--port', '0', '--headless', '--db-filename', db]);
    assert.notEqual(res.code, 0, `must refuse; stdout:\n${res.stdout}\nstderr:\n${res.stderr}`);
    assert.match(res.stderr, /is damaged/);
    assert.ok(
      res.stderr.includes(`temporalite backup restore --from <backup> --db-filename ${db}`),
      `stderr names the restore command:\n${res.stderr}`,
    );
    assert.doesNotMatch(res.stdout, /Server:/);
  } finally {
    removeDir(dir);
  }
});

/** grpc.health.v1.Health/Check for `service`; resolves the status enum number (1 = SERVING). */
function healthCheck(address, service) {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  // HealthCheckRequest { string service = 1; } encoded by hand (no proto files needed).
  const name = Buffer.from(service);
  const req = Buffer.concat([Buffer.from([0x0a, name.length]), name]);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (b) => b,
      (b) => b,
      service ? req : Buffer.alloc(0),
      { deadline: Date.now() + 10000 },
      (err, res) => {
        client.close();
        if (err) return reject(err);
        // HealthCheckResponse { ServingStatus status = 1; }: 0x08 <varint>, or empty for 0.
        resolve(res.length >= 2 && res[0] === 0x08 ? res[1] : 0);
      },
    );
  });
}

test('health check by service name: WorkflowService and OperatorService are SERVING', async () => {
  assert.equal(await healthCheck(server.address, ''), 1);
  assert.equal(await healthCheck(server.address, 'temporal.api.workflowservice.v1.WorkflowService'), 1);
  assert.equal(await healthCheck(server.address, 'temporal.api.operatorservice.v1.OperatorService'), 1);
  await assert.rejects(healthCheck(server.address, 'no.such.Service'), (err) => err.code === Code.NOT_FOUND);
});

test('namespace retention outside Temporal\'s bounds is INVALID_ARGUMENT (register and update)', async () => {
  const bad = [
    { seconds: -5 * 3600 },
    { seconds: 0 },
    { seconds: 0, nanos: 1000000 }, // 1 ms
    { seconds: 59 * 60 }, // under the 1 h minimum of a local namespace
    { seconds: 7200, nanos: -1 }, // mixed signs
  ];
  for (const period of bad) {
    const ns = uniqueName('ret');
    await expectGrpcError(
      svc().registerNamespace({ namespace: ns, workflowExecutionRetentionPeriod: period }),
      Code.INVALID_ARGUMENT,
      /^A valid retention period is not set on request\.$/,
    );
    await expectGrpcError(svc().describeNamespace({ namespace: ns }), Code.NOT_FOUND);
  }
  const ns = uniqueName('ret');
  await svc().registerNamespace({ namespace: ns, workflowExecutionRetentionPeriod: { seconds: 3600 } });
  await expectGrpcError(
    svc().updateNamespace({ namespace: ns, config: { workflowExecutionRetentionTtl: { seconds: -3600 } } }),
    Code.INVALID_ARGUMENT,
    /^A valid retention period is not set on request\.$/,
  );
  let desc = await svc().describeNamespace({ namespace: ns });
  assert.equal(Number(desc.config.workflowExecutionRetentionTtl.seconds), 3600, 'unchanged by the rejected update');
  // Ten years is accepted (Temporal caps at 250 years).
  await svc().updateNamespace({ namespace: ns, config: { workflowExecutionRetentionTtl: { seconds: 87600 * 3600 } } });
  desc = await svc().describeNamespace({ namespace: ns });
  assert.equal(Number(desc.config.workflowExecutionRetentionTtl.seconds), 87600 * 3600);
});

/** Sends `bytes` (a serialized request) to WorkflowService `method` as raw gRPC. */
function rawCall(address, method, bytes) {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      `/temporal.api.workflowservice.v1.WorkflowService/${method}`,
      (b) => b,
      (b) => b,
      bytes,
      { deadline: Date.now() + 10000 },
      (err, res) => {
        client.close();
        if (err) reject(err);
        else resolve(res);
      },
    );
  });
}


test('invalid UTF-8 in a workflow id is INVALID_ARGUMENT naming the field, not UNIMPLEMENTED', async () => {
  // StartWorkflowExecutionRequest: namespace = 1, workflow_id = 2.
  const req = Buffer.concat([lenField(1, Buffer.from(NS)), lenField(2, Buffer.from([0x77, 0xff, 0xfe, 0x66]))]);
  await assert.rejects(rawCall(server.address, 'StartWorkflowExecution', req), (err) => {
    assert.equal(err.code, Code.INVALID_ARGUMENT, err.details);
    assert.match(err.details, /invalid UTF-8 in request field temporal\.api\.workflowservice\.v1\.StartWorkflowExecutionRequest\.workflow_id/);
    return true;
  });
  // Bytes that are not a protobuf at all.
  await assert.rejects(rawCall(server.address, 'DescribeNamespace', Buffer.from([0x0a, 0xff, 0xff, 0xff])), (err) => {
    assert.equal(err.code, Code.INVALID_ARGUMENT, err.details);
    assert.match(err.details, /cannot decode the .*DescribeNamespace request/);
    return true;
  });
  assert.doesNotMatch(server.stderr(), /libprotobuf ERROR/);
});

test('search attribute values over 2 KB are INVALID_ARGUMENT with Temporal\'s message', async () => {
  const kw = (n) => ({
    indexedFields: { Kw: { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify('k'.repeat(n))) } },
  });
  const id = uniqueName('sa-size');
  await expectGrpcError(
    startWorkflow(id, { searchAttributes: kw(3 * 1024 * 1024) }),
    Code.INVALID_ARGUMENT,
    /^search attribute Kw value of size 3145730 exceeds size limit 2048$/,
  );
  await expectGrpcError(startWorkflow(id, { searchAttributes: kw(2047) }), Code.INVALID_ARGUMENT, /value of size 2049 exceeds size limit 2048/);
  await startWorkflow(id, { searchAttributes: kw(2046) });
});

// The 40 KB per-workflow total applies to what the workflow holds after an upsert (Temporal checks
// the merged attributes), through a workflow task completed by the test itself. An existing check
// (history/commands/record_commands.cc), newly asserted end to end.
test('a search attribute upsert that takes the workflow past 40 KB in total fails the workflow task', async () => {
  const names = Array.from({ length: 22 }, (_, i) => `Big${String(i + 1).padStart(2, '0')}`);
  await connection.operatorService.addSearchAttributes({
    namespace: NS, searchAttributes: Object.fromEntries(names.map((n) => [n, 2 /* KEYWORD */])),
  });
  const kw = (n) => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify('k'.repeat(n))) });
  const fields = (list, n) => ({ indexedFields: Object.fromEntries(list.map((name) => [name, kw(n)])) });
  const id = uniqueName('sa-total');
  const taskQueue = uniqueName('sa-total-tq');
  // 19 values of 1,900 bytes: about 37 KB with names and metadata, under the limit.
  await startWorkflow(id, { taskQueue: { name: taskQueue }, searchAttributes: fields(names.slice(0, 19), 1898) });
  const poll = () => svc().pollWorkflowTaskQueue({ namespace: NS, taskQueue: { name: taskQueue }, identity: 'sa-test' });
  const upsert = (list) => ({
    commandType: 13 /* COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES */,
    upsertWorkflowSearchAttributesCommandAttributes: { searchAttributes: fields(list, 1898) },
  });
  const complete = async (commands) => {
    const task = await poll();
    assert.ok(task.taskToken && task.taskToken.length > 0, 'a workflow task');
    return svc().respondWorkflowTaskCompleted({ namespace: NS, taskToken: task.taskToken, identity: 'sa-test', commands })
      .then(() => 'OK', (e) => e);
  };
  // One more fits (about 39 KB).
  assert.equal(await complete([upsert(names.slice(19, 20))]), 'OK');
  const described = await svc().describeWorkflowExecution({ namespace: NS, execution: { workflowId: id } });
  const held = described.workflowExecutionInfo.searchAttributes.indexedFields;
  assert.ok(held.Big20, 'the first upsert was applied');
  // Two more (4 KB: fine on their own, about 43 KB merged): the workflow task fails, nothing applied.
  await svc().signalWorkflowExecution({ namespace: NS, workflowExecution: { workflowId: id }, signalName: 'next', requestId: randomUUID() });
  await complete([upsert(names.slice(20, 22))]);
  const history = await svc().getWorkflowExecutionHistory({ namespace: NS, execution: { workflowId: id } });
  const failed = history.history.events.filter((e) => e.workflowTaskFailedEventAttributes);
  assert.equal(failed.length, 1, 'one failed workflow task');
  const attrs = failed[0].workflowTaskFailedEventAttributes;
  assert.equal(attrs.cause, 23 /* WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES */);
  assert.match(attrs.failure.message, /^BadSearchAttributes: total size of search attributes \d+ exceeds size limit 40960$/);
  const after = await svc().describeWorkflowExecution({ namespace: NS, execution: { workflowId: id } });
  assert.equal(after.workflowExecutionInfo.searchAttributes.indexedFields.Big21, undefined);
});
