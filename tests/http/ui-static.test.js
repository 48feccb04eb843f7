'use strict';
// The UI port with a built UI (a directory given by the hidden --ui-assets-dir flag): real files
// byte for byte with their MIME types, a long cache for _app/immutable/*, index.html (200) for
// every other GET (single-page app), the API and health beside them.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const { startServer, makeTempDir, removeDir } = require('../compat/harness');
const { request } = require('./http');

test('UI port serves the built files with a single-page-app fallback', { timeout: 60000 }, async (t) => {
  const assets = makeTempDir('temporalite-ui-');
  const index = '<!doctype html><html><head><meta http-equiv="content-security-policy" content="script-src \'sha256-x\'"></head><body>app</body></html>\n';
  const js = 'export const x = 1;\n';
  const font = crypto.randomBytes(3000); // binary, served byte for byte
  fs.mkdirSync(path.join(assets, '_app/immutable/entry'), { recursive: true });
  fs.mkdirSync(path.join(assets, 'fonts'), { recursive: true });
  fs.writeFileSync(path.join(assets, 'index.html'), index);
  fs.writeFileSync(path.join(assets, '_app/immutable/entry/start.abc123.js'), js);
  fs.writeFileSync(path.join(assets, '_app/version.json'), '{"version":"1"}');
  fs.writeFileSync(path.join(assets, 'fonts/inter.woff2'), font);
  fs.writeFileSync(path.join(assets, 'app.css'), 'body{}');
  const server = await startServer({ ephemeral: true, headless: false, extraArgs: ['--ui-assets-dir', assets] });
  try {
    const ui = server.uiUrl();
    assert.ok(ui, `UI line printed:\n${server.stdout()}`);
    const get = (p, headers) => request('GET', ui + p, { headers });

    await t.test('index.html at / byte for byte, not cached', async () => {
      const r = await get('/');
      assert.equal(r.status, 200);
      assert.equal(r.text, index);
      assert.match(r.headers['content-type'], /^text\/html/);
      assert.equal(r.headers['cache-control'], 'no-cache');
    });
    await t.test('immutable assets: JavaScript type and a long cache', async () => {
      const r = await get('/_app/immutable/entry/start.abc123.js');
      assert.equal(r.status, 200);
      assert.equal(r.text, js);
      assert.match(r.headers['content-type'], /^text\/javascript/);
      assert.match(r.headers['cache-control'], /max-age=31536000, immutable/);
    });
    await t.test('other files: their types, revalidated', async () => {
      const f = await get('/fonts/inter.woff2');
      assert.equal(f.status, 200);
      assert.equal(f.headers['content-type'], 'font/woff2');
      assert.ok(f.raw.equals(font), 'binary file byte for byte');
      assert.equal((await get('/_app/version.json')).headers['content-type'], 'application/json');
      assert.match((await get('/app.css')).headers['content-type'], /^text\/css/);
      assert.equal((await get('/app.css')).headers['cache-control'], 'no-cache');
    });
    await t.test('single-page-app fallback: index.html with 200 for other GETs', async () => {
      for (const p of ['/namespaces/default/workflows', '/namespaces/default/workflows/a%2Fb/run/x/history', '/../../etc/passwd', '/_app/immutable/missing.js']) {
        const r = await get(p);
        assert.equal(r.status, 200, p);
        assert.equal(r.text, index, p);
      }
    });
    await t.test('non-GET on a page is refused', async () => {
      assert.equal((await request('POST', `${ui}/namespaces`, { body: {} })).status, 405);
    });
    await t.test('API and health on the UI port', async () => {
      assert.equal((await get('/api/v1/namespaces')).json.namespaces[0].namespaceInfo.name, 'default');
      assert.equal((await get('/api/v1/settings')).json.DefaultNamespace, 'default');
      assert.equal((await get('/healthz')).status, 200);
      assert.equal((await get('/readyz')).status, 200);
    });
  } finally {
    await server.stop();
    removeDir(assets);
  }
});

test('--headless: no UI port, the HTTP API still serves', async () => {
  const server = await startServer({ ephemeral: true });
  try {
    assert.match(server.stdout(), /^UI:\s+off \(--headless\)/m);
    assert.equal(server.uiUrl(), undefined);
    assert.equal((await request('GET', `${server.httpUrl()}/healthz`)).status, 200);
  } finally {
    await server.stop();
  }
});
