'use strict';
// What the crash tests share: cleanups run after a file's tests, and the SIGKILL of a server
// followed by a restart on the same data directory (and, unless told otherwise, the same port,
// so that clients and workers reconnect to it).

const { after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { startServer, serverBinary } = require('../compat/harness');

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

/**
 * The storage fault-injection library (tests/faults/fault_vfs.cc), built next to the tests:
 * TEMPORALITE_FAULT_SHIM, else <dir of the server binary>/tests/libtemporalite_faults.so.
 */
function faultShim() {
  const shim = process.env.TEMPORALITE_FAULT_SHIM || path.join(path.dirname(serverBinary()), 'tests', 'libtemporalite_faults.so');
  if (!fs.existsSync(shim)) throw new Error(`fault-injection library not found at ${shim} (build the temporalite_faults target)`);
  return path.resolve(shim);
}

/**
 * Starts a server (startServer's `opts`) with the fault-injection library preloaded and armed by
 * the control file `control` (write a fault's name into it; tests/faults/fault_vfs.cc). The
 * server binary itself has no fault code: the library is what injects.
 */
async function startServerWithFaults(control, opts = {}) {
  const saved = { LD_PRELOAD: process.env.LD_PRELOAD, TEMPORALITE_FAULT_INJECTION: process.env.TEMPORALITE_FAULT_INJECTION };
  process.env.LD_PRELOAD = faultShim();
  process.env.TEMPORALITE_FAULT_INJECTION = control;
  let server;
  try {
    server = await startServer(opts);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  assert.match(server.stderr(), /storage fault injection is ON/, 'the preloaded library installed its VFS');
  return server;
}

/** sigkill then restart. */
async function killAndRestart(server, opts = {}) {
  await sigkill(server, opts.what);
  return restart(server, opts);
}

module.exports = { cleanupsAfterTests, sigkill, restart, killAndRestart, faultShim, startServerWithFaults };
