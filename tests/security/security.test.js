'use strict';
// Security of the server: TLS and mutual TLS on the gRPC port (--tls-cert-file, --tls-key-file,
// --tls-ca-file), API keys with roles (--api-key-file: reader / writer / admin, per namespace)
// sent as `authorization: Bearer <key>` by the official TypeScript SDK (its apiKey option), the
// CLI (--api-key) and HTTP clients, and the audit log (--audit-log-file). Certificates come
// from openssl in a temp dir; every server is the real binary on an ephemeral loopback port.
//
// Run: tests/run-node-tests.sh tests/security/security.test.js

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFile, spawn } = require('node:child_process');
const https = require('node:https');
const http = require('node:http');

const { Connection, Client } = require('@temporalio/client');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');

const { startServer, installRuntime, makeTempDir, removeDir, serverBinary, uniqueName } = require('../compat/harness');

const Code = { PERMISSION_DENIED: 7, UNAUTHENTICATED: 16 };
const KEYS = {
  admin: 'adm-0123456789abcdef0123',
  writer: 'wrt-0123456789abcdef0123',
  reader: 'rdr-0123456789abcdef0123',
  other: 'oth-0123456789abcdef0123', // writer on namespace "other" only
};

let dir;
let workflowBundle;

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30000, maxBuffer: 8 << 20, killSignal: 'SIGKILL', ...opts }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : String(err.code)) : 0, stdout, stderr });
    });
  });
}

/** The CLI with a hermetic environment (no TEMPORAL_* of the caller; `extraEnv` added). */
function cli(args, extraEnv = {}, opts = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TEMPORAL_')) env[k] = v;
  return run(serverBinary(), args, { env: { ...env, ...extraEnv }, cwd: dir, ...opts });
}

/** The CLI with `input` on its standard input. */
function cliWithInput(args, input) {
  return new Promise((resolve) => {
    const child = execFile(serverBinary(), args, { timeout: 30000, cwd: dir }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** GET over HTTPS (or HTTP) with node's own TLS: { status, body } or { error }. */
function get(url, tls = {}) {
  return new Promise((resolve) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { ...tls, timeout: 10000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ error }));
  });
}

/** Retries `check` (async, returns truthy when done) for up to `ms`. */
async function eventually(check, ms, what) {
  const until = Date.now() + ms;
  for (;;) {
    const last = await check();
    if (last) return last;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function openssl(args) {
  const r = await run('openssl', args, { cwd: dir });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

async function makeCertificates() {
  const ca = async (name, cn) => openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', `${name}.key`,
    '-out', `${name}.pem`, '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  const leaf = async (name, caName, ext) => {
    fs.writeFileSync(path.join(dir, `${name}.ext`), `${ext}\n`);
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`, '-CAcreateserial',
      '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  };
  await ca('ca', 'temporalite test CA');
  await ca('rogue', 'rogue CA');
  await leaf('server', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  await leaf('client', 'ca', 'extendedKeyUsage=clientAuth');
  await leaf('intruder', 'rogue', 'extendedKeyUsage=clientAuth'); // a client certificate from another CA
}

const f = (name) => path.join(dir, name);

before(
  async () => {
    installRuntime();
    dir = makeTempDir('tl-security');
    const bundling = bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'workflows.js'), logger: new DefaultLogger('WARN') });
    bundling.catch(() => {});
    await makeCertificates();
    fs.writeFileSync(f('keys.txt'), [
      '# name key grants',
      `ops ${KEYS.admin} admin`,
      `ci-bot ${KEYS.writer} writer@default   # starts and runs workflows in default`,
      `grafana ${KEYS.reader} reader`,
      `other-team ${KEYS.other} writer@other`,
      '',
    ].join('\n'));
    workflowBundle = await bundling;
  },
  { timeout: 120000 },
);

after(() => {
  if (dir) removeDir(dir);
});

async function expectCode(promise, code, re) {
  await assert.rejects(promise, (e) => {
    // The high-level client wraps the gRPC error (ServiceError with the gRPC error as cause).
    const g = e.code === undefined && e.cause ? e.cause : e;
    assert.equal(g.code, code, `expected gRPC code ${code}, got ${g.code}: ${e.message}`);
    if (re) assert.match(g.details ?? g.message, re);
    return true;
  });
}

test('TLS: the server serves gRPC over TLS; the SDK and the CLI verify it against the CA; plain text and untrusted CAs fail', async () => {
  const server = await startServer({ ephemeral: true, extraArgs: ['--tls-cert-file', f('server.pem'), '--tls-key-file', f('server.key')] });
  try {
    const connection = await Connection.connect({
      address: server.address,
      tls: { serverRootCACertificate: fs.readFileSync(f('ca.pem')) },
    });
    try {
      const ns = await connection.workflowService.describeNamespace({ namespace: 'default' });
      assert.equal(ns.namespaceInfo.name, 'default');
    } finally {
      await connection.close();
    }
    let r = await cli(['operator', 'namespace', 'describe', '-n', 'default', '--address', server.address, '--tls-ca-path', f('ca.pem'), '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).namespaceInfo.name, 'default');
    // Plain text against the TLS port, and a CA that did not sign the server's certificate.
    r = await cli(['operator', 'namespace', 'describe', '-n', 'default', '--address', server.address, '--command-timeout', '5s']);
    assert.equal(r.code, 1, r.stderr);
    r = await cli(['operator', 'namespace', 'describe', '-n', 'default', '--address', server.address, '--tls-ca-path', f('rogue.pem')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /over TLS/);
  } finally {
    await server.stop();
  }
});

test('mutual TLS: --tls-ca-file requires a client certificate signed by that CA', async () => {
  const server = await startServer({
    ephemeral: true,
    extraArgs: ['--tls-cert-file', f('server.pem'), '--tls-key-file', f('server.key'), '--tls-ca-file', f('ca.pem')],
  });
  try {
    const base = ['operator', 'namespace', 'describe', '-n', 'default', '--address', server.address, '--tls-ca-path', f('ca.pem')];
    let r = await cli([...base, '--tls-cert-path', f('client.pem'), '--tls-key-path', f('client.key'), '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).namespaceInfo.name, 'default');
    r = await cli(base); // no client certificate
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cannot reach/);
    r = await cli([...base, '--tls-cert-path', f('intruder.pem'), '--tls-key-path', f('intruder.key')]); // wrong CA
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cannot reach/);
    // The SDK with the client pair works.
    const connection = await Connection.connect({
      address: server.address,
      tls: { serverRootCACertificate: fs.readFileSync(f('ca.pem')), clientCertPair: { crt: fs.readFileSync(f('client.pem')), key: fs.readFileSync(f('client.key')) } },
    });
    try {
      await connection.workflowService.describeNamespace({ namespace: 'default' });
    } finally {
      await connection.close();
    }
  } finally {
    await server.stop();
  }
});

/**
 * Starts the server on `ip` (ephemeral ports, in memory), waits (bounded) until it prints its
 * addresses, stops it, and resolves with its stderr. Nothing connects to it.
 */
function serveBriefly(ip, args = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(serverBinary(), ['server', 'start-dev', '--ephemeral', '--headless', '--ip', ip, '--port', '0',
      '--http-port', '0', '--log-level', 'warn', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20000);
    proc.stdout.on('data', (c) => {
      stdout += c;
      if (/^Server: /m.test(stdout)) proc.kill('SIGTERM');
    });
    proc.stderr.on('data', (c) => { stderr += c; });
    proc.once('exit', () => {
      clearTimeout(timer);
      if (!/^Server: /m.test(stdout)) reject(new Error(`the server on ${ip} did not start:\n${stdout}\n${stderr}`));
      else resolve(stderr);
    });
  });
}

// Binds 0.0.0.0 for about a second on ephemeral ports; the test never connects to it.
test('serving a non-loopback address without TLS or API keys logs a warning at start; loopback, or TLS with keys, does not', async () => {
  let stderr = await serveBriefly('0.0.0.0');
  assert.match(stderr, /level=warn msg=serving 0\.0\.0\.0, which is not a loopback address, without TLS and without API keys; see --tls-cert-file\/--tls-key-file and --api-key-file/);
  stderr = await serveBriefly('0.0.0.0', ['--api-key-file', f('keys.txt')]);
  assert.match(stderr, /serving 0\.0\.0\.0, which is not a loopback address, without TLS \(API keys travel in clear text\)/);
  stderr = await serveBriefly('0.0.0.0', ['--api-key-file', f('keys.txt'), '--tls-cert-file', f('server.pem'), '--tls-key-file', f('server.key')]);
  assert.doesNotMatch(stderr, /not a loopback address/);
  stderr = await serveBriefly('127.0.0.1');
  assert.doesNotMatch(stderr, /not a loopback address/);
});

test('bad TLS and key files stop the server at start with a clear message (exit 2)', async () => {
  for (const [args, re] of [
    [['--tls-cert-file', f('server.pem')], /--tls-cert-file and --tls-key-file go together/],
    [['--tls-cert-file', f('missing.pem'), '--tls-key-file', f('server.key')], /--tls-cert-file: cannot read/],
    [['--tls-cert-file', f('server.pem'), '--tls-key-file', f('keys.txt')], /--tls-key-file: .* is not a PEM file/],
    [['--api-key-file', f('server.pem')], /--api-key-file .*line 1/],
    [['--api-key-file', f('missing.txt')], /--api-key-file: cannot read/],
  ]) {
    const r = await cli(['server', 'start-dev', '--ephemeral', '--port', '0', '--headless', '--http-port', '0', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

test('API keys: roles per namespace through the TypeScript SDK (apiKey), a worker, the CLI and the HTTP API; the audit log', async () => {
  const audit = f('audit.log');
  const server = await startServer({
    ephemeral: true,
    extraArgs: ['--api-key-file', f('keys.txt'), '--audit-log-file', audit, '-n', 'other'],
  });
  const connections = [];
  const connect = async (apiKey) => {
    const c = await Connection.connect({ address: server.address, tls: false, ...(apiKey ? { apiKey } : {}) });
    connections.push(c);
    return c;
  };
  let worker;
  let workerRun;
  try {
    const taskQueue = uniqueName('sec-tq');
    // No key, an unknown key: UNAUTHENTICATED (GetSystemInfo stays open: SDKs call it first).
    const anonymous = await connect();
    await anonymous.workflowService.getSystemInfo({});
    await expectCode(anonymous.workflowService.describeNamespace({ namespace: 'default' }), Code.UNAUTHENTICATED, /unauthenticated/i);
    const stranger = await connect('not-a-key-0123456789');
    await expectCode(stranger.workflowService.describeNamespace({ namespace: 'default' }), Code.UNAUTHENTICATED, /unknown API key/);

    // The writer runs a workflow end to end: client start + worker polls and completions.
    const writer = await connect(KEYS.writer);
    const native = await NativeConnection.connect({ address: server.address, apiKey: KEYS.writer, tls: false });
    worker = await Worker.create({ connection: native, namespace: 'default', taskQueue, workflowBundle, shutdownGraceTime: '1s' });
    workerRun = worker.run();
    const client = new Client({ connection: writer, namespace: 'default' });
    const result = await client.workflow.execute('greet', { taskQueue, workflowId: 'sec-wf-1', args: ['keys'] });
    assert.equal(result, 'hello keys');

    // The reader reads but cannot write; nothing was started by the denied call.
    const reader = new Client({ connection: await connect(KEYS.reader), namespace: 'default' });
    assert.equal(await reader.workflow.getHandle('sec-wf-1').result(), 'hello keys');
    await expectCode(reader.workflow.start('greet', { taskQueue, workflowId: 'sec-wf-denied', args: ['x'] }), Code.PERMISSION_DENIED,
      /Request unauthorized.*StartWorkflowExecution needs writer.*"grafana" has reader/);
    await expectCode(writer.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: 'sec-wf-denied' } }), 5);

    // Per namespace: the writer of "default" cannot touch "other", and the other team not "default".
    await expectCode(writer.workflowService.describeNamespace({ namespace: 'other' }), Code.PERMISSION_DENIED, /namespace "other"/);
    const otherTeam = new Client({ connection: await connect(KEYS.other), namespace: 'default' });
    await expectCode(otherTeam.workflow.start('greet', { taskQueue, workflowId: 'sec-wf-x', args: ['x'] }), Code.PERMISSION_DENIED);

    // Admin calls (OperatorService, namespaces) need admin; the admin key may.
    await expectCode(writer.operatorService.addSearchAttributes({ namespace: 'default', searchAttributes: { StoreId: 2 } }),
      Code.PERMISSION_DENIED, /AddSearchAttributes needs admin/);
    await expectCode(writer.workflowService.registerNamespace({ namespace: 'rogue', workflowExecutionRetentionPeriod: { seconds: 86400 } }),
      Code.PERMISSION_DENIED);
    const admin = await connect(KEYS.admin);
    await admin.operatorService.addSearchAttributes({ namespace: 'default', searchAttributes: { StoreId: 2 } });
    const sas = await reader.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    assert.ok('StoreId' in sas.customAttributes);

    // The CLI's --api-key (with --tls=false: the key implies TLS, as in `temporal`).
    const base = ['--address', server.address, '--tls=false'];
    let r = await cli(['workflow', 'describe', '-w', 'sec-wf-1', '-o', 'json', '--api-key', KEYS.reader, ...base]);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(['workflow', 'terminate', '-w', 'sec-wf-1', '--api-key', KEYS.reader, ...base]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Request unauthorized/);
    r = await cli(['workflow', 'describe', '-w', 'sec-wf-1', ...base]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unauthenticated/i);

    // The HTTP API: the Authorization header, 401 without it, 403 with a reader on a write.
    const httpPort = await httpPortOf(server);
    const url = `http://127.0.0.1:${httpPort}/api/v1/namespaces/default/workflows/sec-wf-1`;
    let resp = await fetch(url);
    assert.equal(resp.status, 401);
    resp = await fetch(url, { headers: { authorization: `Bearer ${KEYS.reader}` } });
    const body = await resp.text();
    assert.equal(resp.status, 200, body);
    assert.equal(JSON.parse(body).workflowExecutionInfo.execution.workflowId, 'sec-wf-1');
    resp = await fetch(`http://127.0.0.1:${httpPort}/api/v1/namespaces/default/workflows/sec-wf-h`, {
      method: 'POST', headers: { authorization: `Bearer ${KEYS.reader}`, 'content-type': 'application/json' },
      body: JSON.stringify({ workflowType: { name: 'greet' }, taskQueue: { name: taskQueue } }),
    });
    assert.equal(resp.status, 403);

    // Audit: client writes and admin calls with who and what, denied calls too; no worker polls.
    const lines = fs.readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const find = (pred, what) => {
      const l = lines.find(pred);
      assert.ok(l, `no audit line for ${what} in:\n${lines.map((x) => JSON.stringify(x)).join('\n')}`);
      return l;
    };
    const started = find((l) => l.method === 'StartWorkflowExecution' && l.outcome === 'OK', 'the start');
    assert.equal(started.principal, 'ci-bot');
    assert.equal(started.namespace, 'default');
    assert.equal(started.workflowId, 'sec-wf-1');
    assert.match(started.time, /^\d{4}-\d\d-\d\dT/);
    const denied = find((l) => l.workflowId === 'sec-wf-denied', 'the denied start');
    assert.equal(denied.principal, 'grafana');
    assert.equal(denied.outcome, 'PERMISSION_DENIED');
    find((l) => l.method === 'AddSearchAttributes' && l.principal === 'ops' && l.outcome === 'OK', 'the admin call');
    find((l) => l.method === 'TerminateWorkflowExecution' && l.outcome === 'PERMISSION_DENIED', 'the CLI terminate');
    find((l) => l.outcome === 'UNAUTHENTICATED' && l.principal === '', 'a call without a key');
    assert.ok(!lines.some((l) => l.method.startsWith('Poll') || l.method.startsWith('Respond')), 'worker traffic is not audited');
    assert.ok(!lines.some((l) => l.method === 'DescribeWorkflowExecution' && l.outcome === 'OK'), 'reads are not audited');
  } finally {
    if (worker) {
      worker.shutdown();
      await workerRun.catch(() => {});
    }
    for (const c of connections) await c.close().catch(() => {});
    await server.stop();
  }
});

test('the audit log records the admin operations: namespace register/update/delete, workflow delete, batch, reset', async () => {
  const audit = f('audit-admin.log');
  const server = await startServer({ ephemeral: true, extraArgs: ['--api-key-file', f('keys.txt'), '--audit-log-file', audit] });
  const connection = await Connection.connect({ address: server.address, tls: false, apiKey: KEYS.admin });
  try {
    const ws = connection.workflowService;
    const ns = uniqueName('audit-ns');
    await ws.registerNamespace({ namespace: ns, workflowExecutionRetentionPeriod: { seconds: 86400 } });
    await ws.updateNamespace({ namespace: ns, updateInfo: { description: 'audited' } });
    await connection.operatorService.deleteNamespace({ namespace: ns });
    // Workflows with no worker: enough for the calls to be made and recorded.
    const client = new Client({ connection, namespace: 'default' });
    const taskQueue = uniqueName('audit-tq');
    for (const id of ['audit-wf-reset', 'audit-wf-batch', 'audit-wf-delete']) {
      await client.workflow.start('greet', { taskQueue, workflowId: id, args: ['x'] });
    }
    await ws.startBatchOperation({
      namespace: 'default', jobId: uniqueName('audit-batch'), reason: 'audit test',
      executions: [{ workflowId: 'audit-wf-batch' }], terminationOperation: { identity: 'audit-test' },
    });
    // No workflow task has completed, so the reset is refused; the attempt is recorded all the same.
    let resetOutcome = 'OK';
    await ws.resetWorkflowExecution({
      namespace: 'default', workflowExecution: { workflowId: 'audit-wf-reset' }, workflowTaskFinishEventId: 3,
      requestId: uniqueName('audit-reset'), reason: 'audit test',
    }).catch((e) => { resetOutcome = e.code; });
    assert.notEqual(resetOutcome, 'OK', 'a reset before any completed workflow task is refused');
    await ws.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: 'audit-wf-delete' } });

    const codeNames = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
      'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED',
      'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];
    const expected = [
      ['RegisterNamespace', ns, '', 'OK'],
      ['UpdateNamespace', ns, '', 'OK'],
      ['DeleteNamespace', ns, '', 'OK'],
      ['StartBatchOperation', 'default', '', 'OK'],
      ['ResetWorkflowExecution', 'default', 'audit-wf-reset', codeNames[resetOutcome]],
      ['DeleteWorkflowExecution', 'default', 'audit-wf-delete', 'OK'],
    ];
    // The line is written when the call's status is sent: wait for the last one (bounded).
    const lines = await eventually(() => {
      if (!fs.existsSync(audit)) return undefined;
      const all = fs.readFileSync(audit, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      return all.some((l) => l.method === 'DeleteWorkflowExecution') ? all : undefined;
    }, 10000, 'the audit line of DeleteWorkflowExecution');
    for (const [method, namespace, workflowId, outcome] of expected) {
      const l = lines.find((x) => x.method === method);
      assert.ok(l, `no audit line for ${method} in:\n${lines.map((x) => JSON.stringify(x)).join('\n')}`);
      assert.equal(l.principal, 'ops', method);
      assert.equal(l.namespace, namespace, method);
      assert.equal(l.outcome, outcome, method);
      if (workflowId) assert.equal(l.workflowId, workflowId, method);
      assert.match(l.time, /^\d{4}-\d\d-\d\dT/);
    }
  } finally {
    await connection.close().catch(() => {});
    await server.stop();
  }
});

/** The HTTP API port the server printed ("HTTP:    http://127.0.0.1:<port>", https with TLS). */
async function httpPortOf(server) {
  const out = server.stdout();
  const m = /HTTP:\s+https?:\/\/[^:]+:(\d+)/.exec(out);
  assert.ok(m, `no HTTP line in ${out}`);
  return Number(m[1]);
}


test('HTTPS: the HTTP API and UI ports serve TLS with the gRPC certificate; with --tls-ca-file they require a client certificate', async () => {
  const ca = fs.readFileSync(f('ca.pem'));
  let server = await startServer({ ephemeral: true, headless: false,
    extraArgs: ['--tls-cert-file', f('server.pem'), '--tls-key-file', f('server.key')] });
  try {
    const api = server.httpUrl();
    const ui = server.uiUrl();
    assert.match(api, /^https:\/\/127\.0\.0\.1:\d+$/, server.stdout());
    assert.match(ui, /^https:\/\/127\.0\.0\.1:\d+$/, server.stdout());
    let r = await get(`${api}/api/v1/namespaces/default`, { ca });
    assert.equal(r.status, 200, r.error && r.error.message);
    assert.equal(JSON.parse(r.body).namespaceInfo.name, 'default');
    r = await get(`${ui}/healthz`, { ca });
    assert.equal(r.status, 200, r.error && r.error.message);
    // Plain HTTP on the TLS port gets no answer; a client that does not trust the CA refuses it.
    r = await get(`${api.replace('https:', 'http:')}/healthz`);
    assert.ok(r.error || r.status >= 400, `plain HTTP answered ${r.status}`);
    r = await get(`${api}/healthz`, { ca: fs.readFileSync(f('rogue.pem')) });
    assert.ok(r.error, 'a certificate from an untrusted CA was accepted');
  } finally {
    await server.stop();
  }
  server = await startServer({ ephemeral: true, headless: false,
    extraArgs: ['--tls-cert-file', f('server.pem'), '--tls-key-file', f('server.key'), '--tls-ca-file', f('ca.pem')] });
  try {
    const client = { ca, cert: fs.readFileSync(f('client.pem')), key: fs.readFileSync(f('client.key')) };
    for (const base of [server.httpUrl(), server.uiUrl()]) {
      let r = await get(`${base}/healthz`, client);
      assert.equal(r.status, 200, r.error && r.error.message);
      r = await get(`${base}/healthz`, { ca });
      assert.ok(r.error, `${base}: answered ${r.status} without a client certificate`);
      r = await get(`${base}/healthz`, { ca, cert: fs.readFileSync(f('intruder.pem')), key: fs.readFileSync(f('intruder.key')) });
      assert.ok(r.error, `${base}: answered ${r.status} to a client certificate of another CA`);
    }
  } finally {
    await server.stop();
  }
});

test('hashed API keys in the key file (server hash-api-key), reloaded on SIGHUP without a restart', async () => {
  let r = await cli(['server', 'hash-api-key', '--generate']);
  assert.equal(r.code, 0, r.stderr);
  const gen = /^key ([0-9a-f]{64})\nhash (sha256:[0-9a-f]{32}:[0-9a-f]{64})\n$/.exec(r.stdout);
  assert.ok(gen, r.stdout);
  const [, opsKey, opsHash] = gen;
  const lateKey = 'late-0123456789abcdef-key';
  r = await cliWithInput(['server', 'hash-api-key'], `${lateKey}\n`);
  assert.equal(r.code, 0, r.stderr);
  const lateHash = r.stdout.trim();
  assert.match(lateHash, /^sha256:[0-9a-f]{32}:[0-9a-f]{64}$/);
  r = await cliWithInput(['server', 'hash-api-key'], 'short\n');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /16 characters/);

  const keyFile = f('hashed-keys.txt');
  fs.writeFileSync(keyFile, `ops ${opsHash} admin\n`);
  assert.ok(!fs.readFileSync(keyFile, 'utf8').includes(opsKey));
  const server = await startServer({ ephemeral: true, extraArgs: ['--api-key-file', keyFile] });
  const connections = [];
  const connect = async (apiKey) => {
    const c = await Connection.connect({ address: server.address, tls: false, apiKey, interceptors: [] });
    connections.push(c);
    return c;
  };
  const works = async (key) => {
    try {
      await (await connect(key)).workflowService.describeNamespace({ namespace: 'default' });
      return true;
    } catch (e) {
      if (e.code !== Code.UNAUTHENTICATED) throw e;
      return false;
    }
  };
  try {
    assert.equal(await works(opsKey), true);
    assert.equal(await works(opsHash), false); // the file's text is not a key
    assert.equal(await works(lateKey), false);

    // Rotate: the new file drops ops and adds late; SIGHUP applies it to the running server.
    fs.writeFileSync(keyFile, `late ${lateHash} reader\n`);
    server.proc.kill('SIGHUP');
    await eventually(() => works(lateKey), 10000, 'the reloaded key');
    assert.equal(await works(opsKey), false);

    // A broken file leaves the keys in force, with an error in the log.
    fs.writeFileSync(keyFile, 'late sha256:nothex reader\n');
    server.proc.kill('SIGHUP');
    await eventually(() => /API keys not reloaded.*line 1/.test(server.stderr()), 10000, 'the reload error');
    assert.equal(await works(lateKey), true);
    assert.equal(server.proc.exitCode, null);
  } finally {
    for (const c of connections) await c.close().catch(() => {});
    await server.stop();
  }
});

test('the key file is reloaded when it changes, without SIGHUP', async () => {
  const keyFile = f('watched-keys.txt');
  const first = 'first-0123456789abcdef';
  const second = 'second-0123456789abcdef';
  fs.writeFileSync(keyFile, `one ${first} reader\n`);
  const server = await startServer({ ephemeral: true, logLevel: 'info', extraArgs: ['--api-key-file', keyFile] });
  const connections = [];
  const works = async (key) => {
    const c = await Connection.connect({ address: server.address, tls: false, apiKey: key, interceptors: [] });
    connections.push(c);
    try {
      await c.workflowService.describeNamespace({ namespace: 'default' });
      return true;
    } catch (e) {
      if (e.code !== Code.UNAUTHENTICATED) throw e;
      return false;
    }
  };
  try {
    assert.equal(await works(first), true);
    assert.equal(await works(second), false);
    // An editor's save: a new file renamed over the old one.
    fs.writeFileSync(`${keyFile}.tmp`, `two ${second} reader\n`);
    fs.renameSync(`${keyFile}.tmp`, keyFile);
    await eventually(() => works(second), 10000, 'the changed key file in force');
    assert.equal(await works(first), false);
    assert.match(server.stderr(), /API key file changed: reloaded 1 API keys/);
    // Written in place, broken: the keys in force stay, the error is logged.
    fs.writeFileSync(keyFile, 'two not-a-grant\n');
    await eventually(() => /API key file changed: API keys not reloaded.*line 1/.test(server.stderr()), 10000, 'the reload error');
    assert.equal(await works(second), true);
  } finally {
    for (const c of connections) await c.close().catch(() => {});
    await server.stop();
  }
});

test('the UI sign-in limits failed keys per client: 429 with Retry-After, the key not checked meanwhile', async () => {
  const server = await startServer({ ephemeral: true, headless: false, extraArgs: ['--api-key-file', f('keys.txt')] });
  const ui = server.uiUrl().replace(/\/$/, '');
  const login = (key) => new Promise((resolve) => {
    const body = `key=${encodeURIComponent(key)}&returnUrl=%2F`;
    const req = http.request(`${ui}/login`, { method: 'POST', timeout: 10000,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ error }));
    req.end(body);
  });
  try {
    assert.equal((await login(KEYS.reader)).status, 303, 'a right key signs in');
    for (let i = 0; i < 5; i++) {
      const r = await login(`wrong-key-${i}-0123456789`);
      assert.equal(r.status, 401, `attempt ${i}: ${r.status} ${r.error || ''}`);
    }
    // From now on each failure makes the client wait (1 s, then 2 s, 4 s, ...) and an attempt
    // within the wait gets 429 unchecked (the unit test shows a right key refused too; a loaded
    // machine may outlast the first wait here: try on).
    let limited;
    for (let i = 0; i < 6 && !limited; i++) {
      const r = await login(`wrong-key-more-${i}-0123456789`);
      if (r.status === 429) limited = r;
      else assert.equal(r.status, 401);
    }
    assert.ok(limited, 'no 429 after repeated failures');
    const wait = Number(limited.headers['retry-after']);
    assert.ok(Number.isInteger(wait) && wait >= 1 && wait <= 300, `Retry-After ${limited.headers['retry-after']}`);
    assert.match(limited.body, /Too many failed sign-in attempts from this address: try again in \d+ s/);
    assert.equal(limited.headers['set-cookie'], undefined);
    // After the wait the right key works and resets the count.
    await new Promise((r) => setTimeout(r, wait * 1000 + 100));
    assert.equal((await login(KEYS.reader)).status, 303);
    assert.equal((await login('wrong-key-again-0123456789')).status, 401);
  } finally {
    await server.stop();
  }
});

test('backup create and doctor with --api-key or TEMPORAL_API_KEY and the TLS flags', async () => {
  const server = await startServer({
    headless: false,
    extraArgs: ['--tls-cert-file', f('server.pem'), '--tls-key-file', f('server.key'), '--api-key-file', f('keys.txt')],
  });
  try {
    const tlsFlags = ['--address', server.address, '--tls-ca-path', f('ca.pem')];
    const backups = f('backups');
    let r = await cli(['backup', 'create', ...tlsFlags, '--api-key', KEYS.admin, '--to', backups, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const made = JSON.parse(r.stdout);
    assert.ok(made.name && made.dbSha256, r.stdout);
    r = await cli(['backup', 'create', ...tlsFlags, '--to', backups], { TEMPORAL_API_KEY: KEYS.admin });
    assert.equal(r.code, 0, r.stderr);
    // A snapshot is a cluster admin call: a reader's key is refused, no key is unauthenticated.
    r = await cli(['backup', 'create', ...tlsFlags, '--to', backups], { TEMPORAL_API_KEY: KEYS.reader });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /Request unauthorized/);
    r = await cli(['backup', 'create', ...tlsFlags, '--to', backups]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /unauthenticated/i);
    r = await cli(['backup', 'list', backups, '-o', 'json']);
    assert.equal(JSON.parse(r.stdout).length, 2, r.stdout);

    // doctor reads: a reader's key is enough; without one the server check fails and says why.
    const doctor = ['doctor', ...tlsFlags, '--db-filename', path.join(server.dataDir, 'temporalite.db'), '--min-free-disk-mib', '1',
      '-o', 'json'];
    r = await cli(doctor, { TEMPORAL_API_KEY: KEYS.reader });
    let report = JSON.parse(r.stdout);
    const check = (name) => report.checks.find((c) => c.check === name);
    assert.equal(check('server').level, 'OK', r.stdout);
    assert.equal(check('task queues').level, 'OK', r.stdout);
    r = await cli([...doctor, '--api-key', KEYS.reader]);
    report = JSON.parse(r.stdout);
    assert.equal(check('server').level, 'OK', r.stdout);
    r = await cli(doctor);
    report = JSON.parse(r.stdout);
    assert.equal(r.code, 2, r.stdout);
    assert.equal(check('server').level, 'FAIL', r.stdout);
    assert.match(check('server').detail, /unauthenticated/i);

    // The UI port serves HTTPS here: its sign-in cookie is marked Secure (never sent over HTTP).
    r = await get(`${server.uiUrl()}/logout`, { ca: fs.readFileSync(f('ca.pem')) });
    assert.equal(r.status, 303, r.error && r.error.message);
    assert.match(String(r.headers['set-cookie']), /temporalite-ui-key=.*; Secure/);
  } finally {
    await server.stop();
  }
});

// gRPC's health service reads raw bytes, not a protobuf message: the auth interceptor (installed
// with API keys or an audit log) must not decode its request (it crashed the server).
test('grpc.health.v1.Health/Check needs no key and does not crash a server with API keys and an audit log', async () => {
  const grpc = require('@grpc/grpc-js');
  const server = await startServer({
    ephemeral: true, extraArgs: ['--api-key-file', f('keys.txt'), '--audit-log-file', f('health-audit.log')],
  });
  try {
    const check = (service, metadata = new grpc.Metadata()) => new Promise((resolve, reject) => {
      const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
      const name = Buffer.from(service);
      const req = service ? Buffer.concat([Buffer.from([0x0a, name.length]), name]) : Buffer.alloc(0);
      client.makeUnaryRequest('/grpc.health.v1.Health/Check', (b) => b, (b) => b, req, metadata, { deadline: Date.now() + 10000 },
        (err, res) => {
          client.close();
          if (err) return reject(err);
          resolve(res.length >= 2 && res[0] === 0x08 ? res[1] : 0); // HealthCheckResponse.status: 1 SERVING
        });
    });
    const withKey = new grpc.Metadata();
    withKey.set('authorization', `Bearer ${KEYS.reader}`);
    for (let i = 0; i < 3; i++) {
      assert.equal(await check(''), 1);
      assert.equal(await check('temporal.api.workflowservice.v1.WorkflowService'), 1);
      assert.equal(await check('', withKey), 1);
    }
    assert.equal(server.proc.exitCode, null, `the server still runs:\n${server.stderr()}`);
    const r = await cli(['operator', 'namespace', 'describe', '-n', 'default', '--address', server.address, '--tls=false', '--api-key', KEYS.reader]);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await server.stop();
  }
});
