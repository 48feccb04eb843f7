'use strict';
// The browser fixture shared by the web UI tests (ui, actions, detail): Debian's chromium driven
// by playwright-core, and the teardown of a test file's server, worker and browser.
const { chromium } = require('playwright-core');
const { removeDir } = require('../compat/harness');

const CHROMIUM = process.env.TEMPORALITE_CHROMIUM || '/usr/bin/chromium';

// Launches headless chromium (no sandbox: CI runs as root) on `userDataDir` and returns its context
// and first page. `apiFailures`, when given, collects every /api/v1 response with status >= 400.
async function launchBrowser(userDataDir, { uiWait, acceptDownloads = false, apiFailures } = {}) {
  const browserContext = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads,
    viewport: { width: 1440, height: 900 },
    timezoneId: 'UTC',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = browserContext.pages()[0] ?? (await browserContext.newPage());
  if (uiWait) page.setDefaultTimeout(uiWait);
  if (apiFailures) {
    page.on('response', (r) => {
      if (r.url().includes('/api/v1/') && r.status() >= 400) apiFailures.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    });
  }
  return { browserContext, page };
}

// Stops what a UI test file started, in order: the browser, the worker, the connections, the
// server (SIGTERM), then removes the browser's profile directory.
async function tearDown({ browserContext, worker, workerRun, nativeConnection, connection, server, userDataDir }) {
  if (browserContext) await browserContext.close().catch(() => {});
  if (worker) {
    try {
      worker.shutdown();
    } catch {
      // not running
    }
    await workerRun?.catch(() => {});
  }
  if (nativeConnection) await nativeConnection.close().catch(() => {});
  if (connection) await connection.close().catch(() => {});
  if (server) await server.stop('SIGTERM');
  removeDir(userDataDir);
}

module.exports = { CHROMIUM, launchBrowser, tearDown };
