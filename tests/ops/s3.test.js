'use strict';
// Backups to S3-compatible storage through SigV4 over libcurl, against a real S3 server (the npm
// package s3rver, pinned) started on loopback: upload (single and multipart), list, download
// (verify, restore), retention, a wrong access key refused with a clear error, retries when the
// endpoint is down. s3rver checks the access key id but does not recompute SigV4 signatures;
// the signature itself is checked against AWS's documented examples in tests/unit/sigv4_test.cc.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
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

async function startS3() {
  const directory = tempDir('tl-s3rver-');
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: 'backups' }] });
  const addr = await s3.run();
  const requests = [];
  s3.httpServer.prependListener('request', (req) => requests.push(`${req.method} ${req.url}`));
  return { s3, endpoint: `http://127.0.0.1:${addr.port}`, requests, directory };
}

test('backups to S3: multipart upload, list, verify, restore, retention; wrong key and a down endpoint', async () => {
  const { s3, endpoint, requests } = await startS3();
  const env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1' };
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
    // Missing credentials are a clear error before any request.
    const none = await cli(['backup', 'list', dest], { env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_ENDPOINT_URL: endpoint } });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /S3 credentials missing/);
  } finally {
    await server.stop();
    await s3.close();
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
