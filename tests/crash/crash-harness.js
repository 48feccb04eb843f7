'use strict';
// What the crash tests share: cleanups run after a file's tests, and the SIGKILL of a server
// followed by a restart on the same data directory (and, unless told otherwise, the same port,
// so that clients and workers reconnect to it).

const { after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer } = require('../compat/harness');

/**
 * An array for cleanup functions (sync or async), run in reverse order after the file's tests;
 * a failing cleanup is logged and the others still run.
 */
function cleanupsAfterTests() {
  const cleanups = [];
  after(async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (e) {
        console.error('cleanup failed:', e);
      }
    }
  });
  return cleanups;
}

/** SIGKILLs `server` and waits for its exit (bounded), asserting that SIGKILL ended it. */
async function sigkill(server, what = 'kill') {
  const killed = await server.kill();
  assert.equal(killed.signal, 'SIGKILL', `${what}: ${JSON.stringify(killed)}`);
  return killed;
}

/**
 * Starts a server again on `server`'s data directory: on its port unless `samePort` is false
 * (asserted), with `opts` passed on to startServer (extraArgs, logLevel, ...).
 */
async function restart(server, { samePort = true, what = 'restart', ...opts } = {}) {
  const next = await startServer({ ...opts, dataDir: server.dataDir, ...(samePort ? { port: server.port } : {}) });
  if (samePort) assert.equal(next.port, server.port, `${what}: restarted on the same port`);
  return next;
}

/** sigkill then restart. */
async function killAndRestart(server, opts = {}) {
  await sigkill(server, opts.what);
  return restart(server, opts);
}

module.exports = { cleanupsAfterTests, sigkill, restart, killAndRestart };
