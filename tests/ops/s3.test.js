'use strict';
// Backups to S3-compatible storage through SigV4 over libcurl, against a real S3 server (the npm
// package s3rver, pinned) started on loopback: upload (single and multipart), list, download
// (verify, restore), retention, a wrong access key refused with a clear error, retries when the
// endpoint is down. s3rver checks the access key id but does not recompute SigV4 signatures, so
// the test puts a verifying proxy in front of it: every request's payload hash and Authorization
// header are recomputed with AWS's own signer (npm @smithy/signature-v4, pinned) from the secret
// the server knows, and a mismatch is answered 403 SignatureDoesNotMatch as S3 answers it; a
// wrong secret is refused. (The signer is also checked against AWS's documented examples in
// tests/unit/sigv4_test.cc.)
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const http = require('node:http');
const S3rver = require('s3rver');

const { Connection, Client } = require('@temporalio/client');
const { startServer, makeTempDir, removeDir, uniqueName } = require('../compat/harness');
const { cli } = require('./ops');

const dirs = [];
after(() => dirs.forEach(removeDir));
function tempDir(prefix) {
  const d = makeTempDir(prefix);
  dirs.push(d);
  return d;
}

const SECRET = 'S3RVER';

/** The Authorization header AWS's signer computes for `req` (its signed headers, `secret`). */
async function expectedAuthorization(req, secret) {
  const { SignatureV4 } = require('@smithy/signature-v4');
  const { Sha256 } = require('@aws-crypto/sha256-js');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$/.exec(req.headers.authorization || '');
  if (!m) return null;
  const [, accessKeyId, , region, signedHeaders] = m;
  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey: secret }, region, service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  const url = new URL(req.url, 'http://placeholder');
  const query = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const headers = {};
  for (const h of signedHeaders.split(';')) headers[h] = req.headers[h];
  const d = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(req.headers['x-amz-date'] || '');
  if (!d) return null;
  const signingDate = new Date(Date.UTC(+d[1], +d[2] - 1, +d[3], +d[4], +d[5], +d[6]));
  const signed = await signer.sign({ method: req.method, protocol: 'http:', hostname: '127.0.0.1', path: url.pathname, query, headers }, { signingDate });
  return signed.headers.authorization;
}

/** S3's error document. */
function s3Error(res, status, code, message) {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

/**
 * s3rver on loopback behind a SigV4-verifying proxy (the endpoint the CLI talks to). The proxy
 * buffers each request, checks x-amz-content-sha256 against the body and the Authorization header
 * against AWS's signer, and forwards what passes to s3rver unchanged.
 */
async function startS3() {
  const directory = tempDir('tl-s3rver-');
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: 'backups' }] });
  const addr = await s3.run();
  const requests = [];
  const verdicts = { verified: 0, refused: 0 };
  const proxy = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      requests.push(`${req.method} ${req.url}`);
      const body = Buffer.concat(chunks);
      const payloadHash = crypto.createHash('sha256').update(body).digest('hex');
      if (req.headers['x-amz-content-sha256'] !== payloadHash) {
        verdicts.refused++;
        return s3Error(res, 400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
      }
      const want = await expectedAuthorization(req, SECRET).catch(() => null);
      if (!want || want !== req.headers.authorization) {
        verdicts.refused++;
        return s3Error(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
      }
      verdicts.verified++;
      const up = http.request({ host: '127.0.0.1', port: addr.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        res.writeHead(upRes.statusCode, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', () => s3Error(res, 502, 'BadGateway', 'upstream failed'));
      up.end(body);
    });
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const close = async () => {
    await new Promise((resolve) => proxy.close(resolve));
    await s3.close();
  };
  return { close, endpoint: `http://127.0.0.1:${proxy.address().port}`, requests, verdicts, directory };
}

test('backups to S3: multipart upload, list, verify, restore, retention; wrong key and a down endpoint', async () => {
  const { close, endpoint, requests, verdicts } = await startS3();
  const env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: SECRET, AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1' };
  const server = await startServer();
  try {
    // ~9 MB of incompressible workflow inputs: the compressed backup needs two 5 MiB parts.
    const conn = await Connection.connect({ address: server.address });
    const client = new Client({ connection: conn, namespace: 'default' });
    const ids = [];
    for (let i = 0; i < 8; i++) {
      const id = uniqueName('big');
      await client.workflow.start('noWorkerHere', { taskQueue: 'nobody', workflowId: id, args: [crypto.randomBytes(1_100_000).toString('base64')] });
      ids.push(id);
    }
    await conn.close();

    const dest = 's3://backups/temporalite/nightly';
    const created = await cli(['backup', 'create', '--address', server.address, '--to', dest, '--s3-part-size-mib', '5', '-o', 'json'], { env });
    assert.equal(created.code, 0, created.stderr);
    const m = JSON.parse(created.stdout);
    assert.ok(m.compressedSizeBytes > 5 * 1024 * 1024, `compressed ${m.compressedSizeBytes} bytes`);
    const key = `/backups/temporalite/nightly/${m.name}.db.gz`;
    assert.equal(requests.filter((r) => r.startsWith(`POST ${key}?uploads`)).length, 1, requests.join('\n'));
    assert.equal(requests.filter((r) => r.startsWith(`PUT ${key}?partNumber=`)).length, 2, requests.join('\n'));
    assert.equal(requests.filter((r) => r.startsWith(`POST ${key}?uploadId=`)).length, 1, requests.join('\n'));
    assert.ok(requests.includes(`PUT /backups/temporalite/nightly/${m.name}.manifest.json`), 'the manifest is a single PUT');

    // A second (small-part-free) backup, then list.
    await new Promise((r) => setTimeout(r, 5));
    const second = await cli(['backup', 'create', '--address', server.address, '--to', dest, '--s3-part-size-mib', '64', '-o', 'json'], { env });
    assert.equal(second.code, 0, second.stderr);
    const m2 = JSON.parse(second.stdout);
    assert.ok(requests.includes(`PUT /backups/temporalite/nightly/${m2.name}.db.gz`), 'below the part size: one PUT');
    const list = await cli(['backup', 'list', dest, '-o', 'json'], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout).map((x) => x.name), [m.name, m2.name]);

    // verify downloads and checks the multipart object.
    const verify = await cli(['backup', 'verify', `${dest}/${m.name}`], { env });
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /checksum OK[\s\S]*integrity_check OK/);

    // restore from S3 (the newest), start a server on it: the workflows are there.
    const dir = tempDir('tl-s3-restore-');
    const restored = await cli(['backup', 'restore', '--from', dest, '--db-filename', path.join(dir, 'temporalite.db')], { env });
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, new RegExp(`Restored ${m2.name}`));
    const s2 = await startServer({ dataDir: dir });
    try {
      const c2 = await Connection.connect({ address: s2.address });
      const cl2 = new Client({ connection: c2, namespace: 'default' });
      for (const id of ids) assert.equal((await cl2.workflow.getHandle(id).describe()).status.name, 'RUNNING');
      await c2.close();
    } finally {
      await s2.stop();
    }

    // retention on S3
    const third = await cli(['backup', 'create', '--address', server.address, '--to', dest, '--keep', '1', '-o', 'json'], { env });
    assert.equal(third.code, 0, third.stderr);
    assert.deepEqual(JSON.parse(third.stdout).deleted, [m.name, m2.name]);
    const list2 = await cli(['backup', 'list', dest, '-o', 'json'], { env });
    assert.deepEqual(JSON.parse(list2.stdout).map((x) => x.name), [JSON.parse(third.stdout).name]);

    // A wrong access key is refused, with what to check.
    const wrong = await cli(['backup', 'list', dest], { env: { ...env, AWS_ACCESS_KEY_ID: 'NOT-A-KEY' } });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /S3 refused the request .*HTTP 403 InvalidAccessKeyId.*check AWS_ACCESS_KEY_ID/);
    // Every request so far carried a signature AWS's signer agrees with.
    assert.equal(verdicts.refused, 0);
    assert.ok(verdicts.verified >= 10, `${verdicts.verified} requests verified`);
    // The right key id with a wrong secret: the signature does not match, and S3 says so.
    const badSecret = await cli(['backup', 'list', dest], { env: { ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' } });
    assert.equal(badSecret.code, 1);
    assert.match(badSecret.stderr, /S3 refused the request .*HTTP 403 SignatureDoesNotMatch.*check AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY/);
    assert.equal(verdicts.refused, 1);
    // Missing credentials are a clear error before any request.
    const none = await cli(['backup', 'list', dest], { env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_ENDPOINT_URL: endpoint } });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /S3 credentials missing/);
  } finally {
    await server.stop();
    await close();
  }
  // The endpoint is gone now: retried, then a clear error.
  const t0 = Date.now();
  const down = await cli(['backup', 'list', 's3://backups/x'], {
    env: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_ENDPOINT_URL: endpoint },
  });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /S3 request failed while listing .*\(after 5 attempts\)/);
  assert.ok(Date.now() - t0 >= 2500, 'backed off between attempts');
});
