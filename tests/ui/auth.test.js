'use strict';
// The web UI on a server that requires API keys (--api-key-file), in Debian's chromium: the UI
// sends the browser to /login on a 401 (as with Temporal's UI server); the login page takes a key
// of the key file, the UI port keeps it in an HttpOnly cookie and calls the API with it, so the
// operator acts with their key's role (a reader cannot terminate, a writer can). The HTTP API
// port itself takes only the Authorization header.
//
// Run: tests/run-node-tests.sh tests/ui/auth.test.js   (env TEMPORALITE_CHROMIUM: the browser)

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { chromium } = require('playwright-core');
const { Connection, Client } = require('@temporalio/client');

const { startServer, pollUntil, uniqueName, makeTempDir, removeDir } = require('../compat/harness');

const CHROMIUM = process.env.TEMPORALITE_CHROMIUM || '/usr/bin/chromium';
const NS = 'default';
const UI_WAIT = 30000;
const KEYS = { reader: 'viewer-key-7f3a9c2e51d04b86', writer: 'ops-key-0c4e8b1d9a7f2e63' };

let server;
let ui;
let dir;
let connection;
let client;
let browserContext;
let page;
const wid = uniqueName('ui-auth');

before(
  async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}: run scripts/deps.sh`);
    dir = makeTempDir('temporalite-ui-auth-');
    const keyFile = path.join(dir, 'keys.txt');
    fs.writeFileSync(keyFile, `viewer ${KEYS.reader} reader\nops ${KEYS.writer} writer\n`, { mode: 0o600 });
    server = await startServer({ headless: false, extraArgs: ['--api-key-file', keyFile] });
    ui = server.uiUrl().replace(/\/$/, '');
    connection = await Connection.connect({ address: server.address, apiKey: KEYS.writer, tls: false }); // with apiKey the SDK defaults to TLS
    client = new Client({ connection, namespace: NS });
    await client.workflow.start('uiForever', { taskQueue: 'ui-auth-idle', workflowId: wid });
    browserContext = await chromium.launchPersistentContext(path.join(dir, 'chromium'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 900 },
      timezoneId: 'UTC',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = browserContext.pages()[0] ?? (await browserContext.newPage());
    page.setDefaultTimeout(UI_WAIT);
  },
  { timeout: 120000 },
);

after(
  async () => {
    if (browserContext) await browserContext.close().catch(() => {});
    if (connection) await connection.close().catch(() => {});
    if (server) await server.stop('SIGTERM');
    removeDir(dir);
  },
  { timeout: 60000 },
);

async function signIn(key) {
  await page.locator('input[name="key"]').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const status = async () => (await client.workflow.getHandle(wid).describe()).status.name;

test('without a key the UI sends the browser to the login page; a wrong key is refused', async () => {
  await page.goto(`${ui}/namespaces/${NS}/workflows`, { waitUntil: 'load' });
  await page.waitForURL(/\/login\?/);
  assert.match(decodeURIComponent(page.url()), /returnUrl=.*\/namespaces\/default\/workflows/);
  await page.locator('input[name="key"]').waitFor();
  await signIn('not-a-key-of-the-file-123456');
  await page.getByText(/Sign-in failed/).waitFor();
  const cookies = await browserContext.cookies(ui);
  assert.equal(cookies.filter((c) => c.name === 'temporalite-ui-key').length, 0, 'no cookie for a wrong key');
});

test('a reader key shows the workflows but cannot terminate; a writer key can', async () => {
  await signIn(KEYS.reader);
  await page.waitForURL(new RegExp(`/namespaces/${NS}/workflows`));
  await page.getByText(wid, { exact: true }).first().waitFor();
  const [cookie] = (await browserContext.cookies(ui)).filter((c) => c.name === 'temporalite-ui-key');
  assert.ok(cookie.httpOnly, 'HttpOnly');
  assert.equal(cookie.sameSite, 'Strict');

  // Terminate as the reader: the server refuses (403), the workflow keeps running.
  const terminate = async () => {
    const { runId } = await client.workflow.getHandle(wid).describe();
    await page.goto(`${ui}/namespaces/${NS}/workflows/${wid}/${runId}/history`, { waitUntil: 'load' });
    await page.locator('#workflow-actions-menu-button:visible').click();
    await page.locator('[data-testid="terminate-button"]:visible').click();
    const m = page.locator('[data-testid="terminate-confirmation-modal"]:visible');
    await m.locator('input, textarea').first().fill('from the auth test');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes(`/workflows/${wid}/terminate`)),
      m.getByRole('button', { name: 'Terminate' }).click(),
    ]);
    return res;
  };
  const denied = await terminate();
  assert.equal(denied.status(), 403, await denied.text());
  assert.match((await denied.json()).message, /Request unauthorized/);
  assert.equal(await status(), 'RUNNING');

  // Sign in again as the writer (the login page replaces the cookie), then terminate.
  await page.goto(`${ui}/login`, { waitUntil: 'load' });
  await signIn(KEYS.writer);
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  const done = await terminate();
  assert.equal(done.status(), 200, await done.text());
  await pollUntil(async () => (await status()) === 'TERMINATED', { timeoutMs: 20000, what: 'terminated' });
});

test('the HTTP API port takes only the Authorization header; logout clears the UI cookie', async () => {
  const api = server.httpUrl();
  const target = `/api/v1/namespaces/${NS}/workflows/${wid}`;
  const cookie = `temporalite-ui-key=${KEYS.writer}`;
  assert.equal((await fetch(`${api}${target}`, { headers: { cookie } })).status, 401, 'a cookie is no key on the API port');
  assert.equal((await fetch(`${api}${target}`, { headers: { authorization: `Bearer ${KEYS.reader}` } })).status, 200);
  assert.equal((await fetch(`${ui}${target}`)).status, 401, 'UI port without cookie or header');
  assert.equal((await fetch(`${ui}${target}`, { headers: { cookie } })).status, 200, 'UI port with the cookie');

  await page.goto(`${ui}/logout`, { waitUntil: 'load' });
  await page.waitForURL(/\/login/);
  assert.equal((await browserContext.cookies(ui)).filter((c) => c.name === 'temporalite-ui-key').length, 0);
});
