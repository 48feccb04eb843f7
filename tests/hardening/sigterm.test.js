'use strict';
// SIGTERM / SIGINT always lead to the clean shutdown. The server takes these signals with sigwait
// in its main thread; a process-directed signal may be delivered to any thread that does not
// block it (gRPC's and libraries' threads), which forwards it to the main thread
// (src/server/signals.h). Fresh servers under load (workflow starts, long polls and task
// completions in flight) get SIGTERM (and some SIGINT): each must log "stopped cleanly" and exit
// with status 0, every time, and keep every acknowledged start. Every other server serves TLS:
// loading its certificate starts gRPC's threads early in the start-up, before the server blocked
// these signals (before the fix, SIGTERM went to one of those threads and killed the process).
//
// Run: node --test tests/hardening/sigterm.test.js   (env TEMPORALITE_BIN overrides the binary;
// SIGTERM_ROUNDS, default 20, sets the number of servers)

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { Connection } = require('@temporalio/client');

const { startServer, makeTempDir, removeDir, uniqueName, withTimeout, selfSignedCert } = require('../compat/harness');
const { cleanupsAfterTests } = require('../crash/crash-harness');

const ROUNDS = Number(process.env.SIGTERM_ROUNDS || 20);
const NS = 'default';
const cleanups = cleanupsAfterTests();


/** A clean stop: exit 0 (not killed by a signal), the signal logged and "stopped cleanly". */
function assertStoppedCleanly(res, log, signal, what) {
  assert.deepEqual(res, { code: 0, signal: null }, `${what} (${signal}): exit ${JSON.stringify(res)}\n${log.slice(-2000)}`);
  assert.match(log, new RegExp(`received ${signal}, shutting down`), `${what}: ${log.slice(-2000)}`);
  assert.match(log, /stopped cleanly/, `${what}: ${log.slice(-2000)}`);
}

/** Keeps starts, long polls and task completions in flight until `stopped()`; counts acknowledged starts. */
function load(svc, stopped) {
  const taskQueue = uniqueName('sigterm-tq');
  const acked = [];
  const starter = async () => {
    while (!stopped()) {
      const workflowId = uniqueName('sigterm-wf');
      try {
        await svc.startWorkflowExecution({
          namespace: NS,
          workflowId,
          workflowType: { name: 'w' },
          taskQueue: { name: taskQueue },
          requestId: uniqueName('req'),
        });
        acked.push(workflowId);
      } catch {
        return; // the server is going away
      }
    }
  };
  const poller = async () => {
    while (!stopped()) {
      try {
        const t = await svc.pollWorkflowTaskQueue({ namespace: NS, taskQueue: { name: taskQueue }, identity: 'sigterm' });
        if (t.taskToken && t.taskToken.length > 0) {
          await svc.respondWorkflowTaskCompleted({
            namespace: NS,
            taskToken: t.taskToken,
            identity: 'sigterm',
            commands: [{ commandType: 4 /* COMPLETE_WORKFLOW_EXECUTION */, completeWorkflowExecutionCommandAttributes: {} }],
          });
        }
      } catch {
        return;
      }
    }
  };
  const workers = [starter(), starter(), starter(), poller(), poller(), poller(), poller()];
  return { acked, done: Promise.allSettled(workers) };
}

test(`SIGTERM and SIGINT under load shut the server down cleanly, ${ROUNDS} times out of ${ROUNDS}`, { timeout: ROUNDS * 20000 + 30000 }, async (t) => {
  const dataDir = makeTempDir('temporalite-sigterm-');
  cleanups.push(() => removeDir(dataDir));
  const certDir = makeTempDir('temporalite-sigterm-tls-');
  cleanups.push(() => removeDir(certDir));
  const { cert, key } = selfSignedCert(certDir);
  for (let round = 0; round < ROUNDS; round++) {
    // Every fourth round SIGINT (Ctrl-C), the others SIGTERM; a fresh server each time, on the same data.
    const signal = round % 4 === 3 ? 'SIGINT' : 'SIGTERM';
    const tls = round % 2 === 1;
    const server = await startServer({ dataDir, logLevel: 'info', extraArgs: tls ? ['--tls-cert-file', cert, '--tls-key-file', key] : [] });
    cleanups.push(() => server.stop('SIGKILL'));
    // No retries (interceptors: []): calls in flight at the signal fail instead of being retried.
    const connection = await Connection.connect({
      address: server.address,
      interceptors: [],
      ...(tls ? { tls: { serverRootCACertificate: fs.readFileSync(cert) } } : {}),
    });
    let stopped = false;
    const l = load(connection.workflowService, () => stopped);
    // Load for a moment (at least a few acknowledged starts), then the signal.
    await withTimeout(
      (async () => {
        while (l.acked.length < 5) await new Promise((r) => setTimeout(r, 10));
      })(),
      20000,
      `round ${round}: starts acknowledged`,
    );
    const acked = l.acked.slice();
    const res = await server.stop(signal, 15000);
    stopped = true;
    await connection.close().catch(() => {});
    await withTimeout(l.done, 20000, `round ${round}: load ends`);
    assert.ok(!res.escalated, `round ${round} (${signal}): not stopped within 15 s, killed\n${server.stderr().slice(-2000)}`);
    assertStoppedCleanly({ code: res.code, signal: res.signal }, server.stderr(), signal, `round ${round}`);
    // The clean shutdown kept every acknowledged start: the next server finds them.
    if (round === ROUNDS - 1 || round % 5 === 0) {
      const check = await startServer({ dataDir });
      cleanups.push(() => check.stop('SIGKILL'));
      const c = await Connection.connect({ address: check.address });
      try {
        for (const workflowId of acked.slice(-5)) {
          const d = await c.workflowService.describeWorkflowExecution({ namespace: NS, execution: { workflowId } });
          assert.equal(d.workflowExecutionInfo.execution.workflowId, workflowId);
        }
      } finally {
        await c.close();
      }
      const r = await check.stop('SIGTERM');
      assert.equal(r.code, 0, `check server exit ${JSON.stringify(r)}`);
    }
    t.diagnostic(`round ${round}${tls ? ' (TLS)' : ''}: ${signal} after ${acked.length} acknowledged starts: exit 0, stopped cleanly`);
  }
});

// The window the forwarding closes: start-up after the configuration is read (with TLS, gRPC's
// threads are running) and before the main thread waits for signals. The signal is sent when the
// server logs its recovery, before it serves; the server must finish starting, then stop cleanly.
// (Before the fixes, the second such server already died of the signal, and 1 in 15 of the others hung:
// an HTTP listener stopped before its thread entered httplib's accept loop waited there for ever.)
test('SIGTERM during start-up (TLS) still shuts the server down cleanly', { timeout: 240000 }, async (t) => {
  const { spawn } = require('node:child_process');
  const { serverBinary } = require('../compat/harness');
  const dir = makeTempDir('temporalite-sigterm-start-');
  cleanups.push(() => removeDir(dir));
  const { cert, key } = selfSignedCert(dir);
  const rounds = Math.max(5, Math.round(ROUNDS / 2));
  for (let round = 0; round < rounds; round++) {
    const proc = spawn(serverBinary(), ['server', 'start-dev', '--ip', '127.0.0.1', '--port', '0', '--http-port', '0', '--headless',
      '--db-filename', path.join(dir, 'temporalite.db'), '--log-level', 'info', '--tls-cert-file', cert, '--tls-key-file', key],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    cleanups.push(() => proc.exitCode === null && proc.signalCode === null && proc.kill('SIGKILL'));
    let err = '';
    let sent = false;
    const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    proc.stderr.on('data', (c) => {
      err += c;
      if (!sent && /recovered \d+ namespaces/.test(err)) {
        sent = true;
        proc.kill('SIGTERM');
      }
    });
    const res = await withTimeout(exited, 30000, `round ${round}: exit`);
    assert.ok(sent, `round ${round}: no recovery line\n${err}`);
    assertStoppedCleanly(res, err, 'SIGTERM', `round ${round}`);
  }
  t.diagnostic(`${rounds} servers got SIGTERM during start-up: exit 0, stopped cleanly`);
});
