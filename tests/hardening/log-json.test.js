'use strict';
// `--log-format json` on a normal start (README, "Configuration": logs go to stderr; json for
// structured logs, gRPC's and protobuf's own lines included). A TLS server at debug level gets
// what makes each source log: gRPC's own TLS handshake error (plain bytes on the TLS port),
// libprotobuf's line for a request with invalid UTF-8 in a string field (sent as raw bytes), and
// the server's own warning (an input over the blob-size warning limit), then a clean stop. Every stderr line, from start to stop, is one JSON object with the
// server's fields (level, ts, msg) and the stream is valid UTF-8.
//
// Run: tests/run-node-tests.sh tests/hardening/log-json.test.js

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const { randomUUID } = require('node:crypto');

const grpc = require('@grpc/grpc-js');
const { Connection } = require('@temporalio/client');

const { startServer, makeTempDir, removeDir, withTimeout, selfSignedCert, lenField } = require('../compat/harness');
const { cleanupsAfterTests } = require('../crash/crash-harness');

const NS = 'default';
const cleanups = cleanupsAfterTests();


/** Sends `bytes` to 127.0.0.1:`port` on a plain TCP connection and waits until the server hangs up. */
function sendRaw(port, bytes) {
  return withTimeout(new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port }, () => sock.end(bytes));
    sock.on('data', () => {});
    sock.once('error', reject);
    sock.once('close', resolve);
  }), 10000, 'raw connection');
}


/** Sends serialized `bytes` to WorkflowService `method` over TLS as raw gRPC; resolves with the error (or null). */
function rawCall(address, rootCert, method, bytes) {
  const client = new grpc.Client(address, grpc.credentials.createSsl(rootCert), {
    'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost',
  });
  return new Promise((resolve) => {
    client.makeUnaryRequest(`/temporal.api.workflowservice.v1.WorkflowService/${method}`, (b) => b, (b) => b, bytes,
      { deadline: Date.now() + 10000 }, (err) => {
        client.close();
        resolve(err);
      });
  });
}

/** Waits (bounded) until `get()` matches `re`. */
async function waitFor(get, re, ms, what) {
  const deadline = Date.now() + ms;
  while (!re.test(get())) {
    if (Date.now() > deadline) throw new Error(`${what}: no match for ${re} within ${ms} ms\n${get()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('--log-format json: every stderr line is a JSON object (gRPC, protobuf and the server\'s own)', { timeout: 60000 }, async () => {
  const dir = makeTempDir('temporalite-log-json-');
  cleanups.push(() => removeDir(dir));
  const { cert, key } = selfSignedCert(dir);
  const rootCert = fs.readFileSync(cert);
  const server = await startServer({
    dataDir: dir, logLevel: 'debug', extraArgs: ['--log-format', 'json', '--tls-cert-file', cert, '--tls-key-file', key],
  });
  cleanups.push(() => server.stop('SIGKILL'));
  // The raw bytes after start-up (the harness keeps the text): checked for valid UTF-8 below.
  const raw = [];
  server.proc.stderr.on('data', (c) => raw.push(c));

  // (a) gRPC's own line: plain bytes on the TLS port fail the TLS handshake.
  await sendRaw(server.port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  await waitFor(server.stderr, /Handshake failed/, 10000, 'gRPC handshake line');

  // (b) libprotobuf's line: invalid UTF-8 in StartWorkflowExecutionRequest.workflow_id (field 2).
  const req = Buffer.concat([lenField(1, Buffer.from(NS)), lenField(2, Buffer.from([0x77, 0xff, 0xfe, 0x66]))]);
  const err = await rawCall(server.address, rootCert, 'StartWorkflowExecution', req);
  assert.equal(err && err.code, grpc.status.INVALID_ARGUMENT, `${err}`);
  await waitFor(server.stderr, /contains invalid UTF-8/, 10000, 'protobuf line');

  // (c) the server's own warning: an input over the 512 KB warning limit (under the 2 MB error limit).
  const connection = await Connection.connect({
    address: server.address, tls: { serverRootCACertificate: rootCert, serverNameOverride: 'localhost' },
  });
  cleanups.push(() => connection.close());
  const payload = { metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.alloc(600 * 1024, 7) };
  await connection.workflowService.startWorkflowExecution({
    namespace: NS, workflowId: `log-json-${randomUUID()}`, workflowType: { name: 'W' },
    taskQueue: { name: 'log-json-tq' }, requestId: randomUUID(), input: { payloads: [payload] },
  });
  await waitFor(server.stderr, /exceeds the warning limit/, 10000, 'blob size warning');
  await connection.close();

  const stopped = await server.stop('SIGTERM');
  assert.deepEqual(stopped, { code: 0, signal: null });

  const text = server.stderr();
  assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(raw)), 'stderr is valid UTF-8');
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'stderr ends with a newline');
  const levels = new Set();
  for (const line of lines) {
    let obj;
    assert.doesNotThrow(() => { obj = JSON.parse(line); }, `not a JSON log line: ${line}`);
    assert.deepEqual(Object.keys(obj), ['level', 'ts', 'msg'], line);
    assert.match(obj.level, /^(debug|info|warn|error)$/, line);
    assert.match(obj.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, line);
    assert.equal(typeof obj.msg, 'string', line);
    levels.add(obj.level);
  }
  const msgs = lines.map((l) => JSON.parse(l));
  const find = (re) => msgs.find((m) => re.test(m.msg));
  assert.equal(find(/^grpc .*Handshake failed/)?.level, 'error', 'gRPC\'s TLS handshake error');
  assert.equal(find(/^protobuf .*contains invalid UTF-8/)?.level, 'debug', 'libprotobuf\'s decoding error');
  assert.equal(find(/size \d+ bytes exceeds the warning limit/)?.level, 'warn', 'the blob size warning');
  assert.ok(find(/^stopped cleanly$/), 'the clean stop');
  assert.doesNotMatch(text, /libprotobuf|^E\d{4}|^\[/m, 'no line in gRPC\'s or protobuf\'s own format');
});
