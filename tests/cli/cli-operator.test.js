'use strict';
// The `temporalite` client commands (issue 5) against the real server binary: operator namespace and search-attribute
// commands, connection settings (environment, .env, unreachable servers, TLS), help and colour.
// The CLI is the same binary, run with child_process.execFile; stdout, stderr and the exit code
// are checked for text and `-o json` output (shared setup and helpers: cli-harness.js).
//
// Run: tests/run-node-tests.sh tests/cli/cli-operator.test.js

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const {
  state, useCliServer, cli, tl, ok, okJson, startWorkflow, closedPort, uniqueName, makeTempDir, removeDir,
} = require('./cli-harness');

useCliServer();

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
    env: { TEMPORAL_ADDRESS: state.server.address, TEMPORAL_NAMESPACE: ns },
  });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  assert.equal(JSON.parse(viaEnv.stdout).namespaceInfo.name, ns);

  const port = await closedPort();
  const flagWins = await cli(['operator', 'namespace', 'describe', '--address', state.server.address, '-n', 'default'], {
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
      `# local settings\nexport TEMPORAL_ADDRESS=${state.server.address} # local\nTEMPORAL_NAMESPACE="${ns}"  # quoted, then a comment\nUNRELATED=1\n`,
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
  const [host, port] = state.server.address.split(':');
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
    // ...unless host verification is off, which (as Temporal's CLI: Go's InsecureSkipVerify)
    // skips the chain's verification too: an unrelated CA or the system roots work then.
    r = await describe(plainTls, ['--tls-ca-path', f('ca.pem'), '--tls-server-name', 'wrong.example', '--tls-disable-host-verification']);
    assert.equal(r.code, 0, r.stderr);
    for (const extra of [['--tls-ca-path', f('other.pem')], ['--tls']]) {
      r = await describe(plainTls, [...extra, '--tls-disable-host-verification']);
      assert.equal(r.code, 0, `${extra.join(' ')}: ${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).namespaceInfo.name, 'default');
    }
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
