'use strict';
const assert = require('node:assert/strict');
// Shared test harness for the Temporalite compatibility / crash / bad-input suites.
//
// startServer() launches the temporalite binary (env TEMPORALITE_BIN, default
// <repo>/build/temporalite) on 127.0.0.1 and resolves once it printed its
// `Server:  127.0.0.1:<port>` ready line. Every wait is bounded; every process
// started here is tracked and SIGKILLed if the test process exits without
// stopping it.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const DEFAULT_BIN = path.join(REPO_ROOT, 'build', 'temporalite');
const READY_RE = /^Server:\s+(\S+)/m;
const MAX_CAPTURE = 256 * 1024; // bytes of stdout/stderr kept per server

const liveChildren = new Set();
process.on('exit', () => {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});
// node --test ends a test file that runs past --test-timeout with SIGTERM. The SDK's Runtime
// listens for SIGTERM by default (a graceful worker shutdown, which can wait forever on a server
// this test stopped or froze), and a file process that outlives its timeout holds the runner's
// pipe: the runner prints its summary and never exits. So SIGTERM ends the file at once, and the
// 'exit' hook above kills the servers it started. Registered before any Runtime exists, so this
// listener runs first.
process.on('SIGTERM', () => {
  process.exitCode = 143;
  process.exit(143);
});

function serverBinary() {
  return process.env.TEMPORALITE_BIN || DEFAULT_BIN;
}

function makeTempDir(prefix = 'temporalite-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function removeDir(dir) {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

function appendCapped(buf, chunk) {
  const s = buf + chunk.toString('utf8');
  return s.length > MAX_CAPTURE ? s.slice(s.length - MAX_CAPTURE) : s;
}

/**
 * Resolve with {code, signal} once `child` has exited, or with null after `ms`.
 */
function waitForExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.removeListener('exit', onExit);
      resolve(null);
    }, ms);
    function onExit(code, signal) {
      clearTimeout(timer);
      resolve({ code, signal });
    }
    child.once('exit', onExit);
  });
}

/**
 * Start a temporalite server.
 *
 * @param {object} [opts]
 * @param {string} [opts.dataDir]   data directory (created as a temp dir when omitted and not ephemeral;
 *                                  a temp dir created here is removed by stop()/kill())
 * @param {boolean} [opts.ephemeral] use --ephemeral instead of --db-filename
 * @param {number} [opts.port]      port to listen on (default 0 = ephemeral port)
 * @param {string[]} [opts.extraArgs]
 * @param {string} [opts.logLevel] server --log-level (default warn)
 * @param {boolean} [opts.headless] default true (pass false to serve the UI port)
 * @param {number} [opts.readyTimeoutMs] default 20000
 * @param {object} [opts.env]      extra environment variables for the server (test hooks)
 * @returns {Promise<{address: string, port: number, dataDir: string|undefined, proc: import('child_process').ChildProcess,
 *                    stdout: () => string, stderr: () => string,
 *                    exited: Promise<{code: number|null, signal: string|null}>,
 *                    stop: (signal?: string, timeoutMs?: number) => Promise<{code: number|null, signal: string|null}>,
 *                    kill: () => Promise<{code: number|null, signal: string|null}>}>}
 */
async function startServer(opts = {}) {
  const bin = serverBinary();
  if (!fs.existsSync(bin)) {
    throw new Error(`temporalite binary not found at ${bin} (set TEMPORALITE_BIN or build it)`);
  }
  const ephemeral = !!opts.ephemeral;
  let dataDir = opts.dataDir;
  let ownsDataDir = false;
  if (!ephemeral && !dataDir) {
    dataDir = makeTempDir();
    ownsDataDir = true;
  }
  const port = opts.port ?? 0;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port)];
  if (ephemeral) args.push('--ephemeral');
  else args.push('--db-filename', path.join(dataDir, 'temporalite.db'));
  const extra = opts.extraArgs ?? [];
  // The HTTP API defaults to port 7243: take a free one so parallel servers never collide.
  if (!extra.includes('--http-port')) args.push('--http-port', '0');
  if (opts.headless !== false) args.push('--headless');
  args.push('--log-level', opts.logLevel ?? 'warn', ...extra);

  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(opts.env ?? {}) } });
  liveChildren.add(proc);
  // A server left running by a failed test must not keep the test process alive: the child and
  // its pipes do not hold the event loop (the 'exit' hook above kills whatever is left). Every
  // wait on the server below has its own timer, which keeps the loop alive while waiting.
  proc.unref();
  proc.stdout.unref();
  proc.stderr.unref();
  let out = '';
  let err = '';
  proc.stdout.on('data', (c) => {
    out = appendCapped(out, c);
  });
  proc.stderr.on('data', (c) => {
    err = appendCapped(err, c);
  });
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      liveChildren.delete(proc);
      resolve({ code, signal });
    });
  });
  // A spawn error (e.g. EACCES) is reported through 'error' and then 'exit' may not fire.
  const spawnError = new Promise((resolve) => proc.once('error', resolve));

  const readyTimeoutMs = opts.readyTimeoutMs ?? 20000;
  let address;
  try {
    address = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `temporalite did not print its ready line within ${readyTimeoutMs} ms\n` +
              `args: ${args.join(' ')}\nstdout:\n${out}\nstderr:\n${err}`,
          ),
        );
      }, readyTimeoutMs);
      const onData = () => {
        const m = READY_RE.exec(out);
        if (m) {
          cleanup();
          resolve(m[1]);
        }
      };
      const cleanup = () => {
        clearTimeout(timer);
        proc.stdout.removeListener('data', onData);
      };
      proc.stdout.on('data', onData);
      exited.then(({ code, signal }) => {
        cleanup();
        reject(
          new Error(
            `temporalite exited before it was ready (code=${code} signal=${signal})\n` +
              `args: ${args.join(' ')}\nstdout:\n${out}\nstderr:\n${err}`,
          ),
        );
      });
      spawnError.then((e) => {
        cleanup();
        reject(new Error(`could not spawn ${bin}: ${e && e.message}`));
      });
      onData(); // in case the line is already there
    });
  } catch (e) {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await waitForExit(proc, 5000);
    }
    liveChildren.delete(proc);
    if (ownsDataDir) removeDir(dataDir);
    throw e;
  }

  const m = /:(\d+)$/.exec(address);
  const actualPort = m ? Number(m[1]) : NaN;

  let removed = false;
  const maybeRemoveDir = () => {
    if (ownsDataDir && !removed) {
      removed = true;
      removeDir(dataDir);
    }
  };

  async function stop(signal = 'SIGTERM', timeoutMs = 10000) {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill(signal);
      let res = await waitForExit(proc, timeoutMs);
      if (!res) {
        // Did not stop in time: force it, and report the escalation to the caller.
        proc.kill('SIGKILL');
        res = await waitForExit(proc, 5000);
        maybeRemoveDir();
        return { ...(res ?? { code: null, signal: null }), escalated: true };
      }
      maybeRemoveDir();
      return res;
    }
    maybeRemoveDir();
    return exited;
  }

  return {
    address,
    port: actualPort,
    dataDir,
    proc,
    exited,
    stdout: () => out,
    stderr: () => err,
    // Base URLs printed on start ("HTTP:    http://127.0.0.1:<port>"), or undefined.
    httpUrl: () => (/^HTTP:\s+(\S+)/m.exec(out) || [])[1],
    uiUrl: () => (/^UI:\s+(http\S+)/m.exec(out) || [])[1],
    metricsUrl: () => (/^Metrics:\s+(\S+)/m.exec(out) || [])[1],
    stop,
    kill: () => stop('SIGKILL'),
  };
}

let runtimeInstalled = false;
/** Install the SDK Runtime once per process with a quiet logger. */
function installRuntime() {
  if (runtimeInstalled) return;
  const { Runtime, DefaultLogger } = require('@temporalio/worker');
  try {
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  } catch (e) {
    // Already installed (or instantiated) in this process: keep the existing one.
    if (!/already/i.test(String(e && e.message))) throw e;
  }
  runtimeInstalled = true;
}

/** Promise.race with a timeout that rejects with a descriptive error. The timer is always cleared. */
async function withTimeout(promise, ms, what = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Poll `fn` until it returns a truthy value (returned) or the deadline passes (throws, including
 * the last value / error seen). Only for conditions that have no signal to wait on.
 */
async function pollUntil(fn, { timeoutMs = 10000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  let lastErr;
  for (;;) {
    try {
      last = await fn();
      lastErr = undefined;
      if (last) return last;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() >= deadline) {
      const detail = lastErr ? `last error: ${lastErr && lastErr.message}` : `last value: ${JSON.stringify(last)}`;
      throw new Error(`${what} not reached within ${timeoutMs} ms (${detail})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ---- history helpers -------------------------------------------------------------------------

let EventType;
function eventTypeName(ev) {
  if (!EventType) EventType = require('@temporalio/proto').temporal.api.enums.v1.EventType;
  const name = EventType[ev.eventType];
  return typeof name === 'string' ? name.replace(/^EVENT_TYPE_/, '') : String(ev.eventType);
}

/** Events of `history` (a temporal.api.history.v1.History) whose type is `name` (e.g. 'TIMER_FIRED'). */
function eventsOfType(history, name) {
  return (history.events ?? []).filter((ev) => eventTypeName(ev) === name);
}

function eventTypeNames(history) {
  return (history.events ?? []).map(eventTypeName);
}

let uniqueCounter = 0;
/** A unique name (task queue / workflow id) for this process. */
function uniqueName(prefix) {
  uniqueCounter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${uniqueCounter}`;
}

/** The gRPC status code of `err` or of one of its causes (SDK errors wrap it), or undefined. */
function grpcCode(err) {
  for (let e = err, depth = 0; e && depth < 6; e = e.cause, depth++) {
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
}

/** Awaits `promise`, which must fail with gRPC status `code` (and a message matching `pattern`). */
async function expectGrpcError(promise, code, pattern) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  if (!err) throw new assert.AssertionError({ message: `expected gRPC code ${code}, got success` });
  let e = err;
  while (e && typeof e.code !== 'number' && e.cause) e = e.cause;
  assert.equal(grpcCode(err), code, String(e && (e.details || e.message)));
  if (pattern) assert.match(e.details || e.message, pattern);
}

/** A self-signed certificate for localhost / 127.0.0.1 in `dir`: {cert, key} file paths. */
function selfSignedCert(dir) {
  const cert = path.join(dir, 'server.pem');
  const key = path.join(dir, 'server.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', key, '-out', cert,
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}

/** A protobuf length-delimited field `num` holding `buf` (for hand-made raw requests). */
function lenField(num, buf) {
  const out = [(num << 3) | 2];
  let n = buf.length;
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>= 7;
  }
  out.push(n);
  return Buffer.concat([Buffer.from(out), buf]);
}

module.exports = {
  selfSignedCert,
  lenField,
  REPO_ROOT,
  serverBinary,
  startServer,
  makeTempDir,
  removeDir,
  waitForExit,
  installRuntime,
  withTimeout,
  pollUntil,
  eventTypeName,
  eventsOfType,
  eventTypeNames,
  uniqueName,
  grpcCode,
  expectGrpcError,
};
