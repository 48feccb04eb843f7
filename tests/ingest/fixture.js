'use strict';
// Starts the fixture retailer (build/fixture-retailer) and the tillless-ingest binary for tests.
const { spawn, execFile } = require('node:child_process');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const BUILD = process.env.TEMPORALITE_BIN ? path.dirname(process.env.TEMPORALITE_BIN) : path.join(REPO_ROOT, 'build');
const INGEST_BIN = process.env.TILLLESS_INGEST_BIN || path.join(BUILD, 'tillless-ingest');
const FIXTURE_BIN = process.env.FIXTURE_RETAILER_BIN || path.join(BUILD, 'fixture-retailer');

async function startFixture(stores) {
  const args = ['--port', '0'];
  for (const [id, n] of Object.entries(stores)) args.push('--store', `${id}=${n}`);
  const proc = spawn(FIXTURE_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.unref();
  proc.stdout.unref();
  proc.stderr.unref();
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`fixture-retailer did not start: ${out}`)), 15000);
    proc.stdout.on('data', (c) => {
      out += c;
      const m = /Fixture retailer: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => reject(new Error(`fixture-retailer exited ${code}`)));
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const call = async (method, p, body) => {
    const r = await fetch(url + p, { method, body: body ? JSON.stringify(body) : undefined });
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status}`);
    return r.json();
  };
  return {
    url,
    setEpoch: (epoch) => call('POST', '/admin/epoch', { epoch }),
    fault: (f) => call('POST', '/admin/faults', f),
    stats: () => call('GET', '/admin/stats'),
    expected: (store, from = 0, to = 0) => call('GET', `/admin/expected?store=${store}&from=${from}&to=${to}`),
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      // The child is unref'd: without this (ref'd) timer the event loop could drain before the
      // exit arrives, ending the after() hook early and leaving the PostgreSQL cluster running.
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Runs a binary; resolves {code, stdout, stderr}. */
function run(bin, args, { env = {}, cwd, timeoutMs = 120000 } = {}) {
  return new Promise((resolve) => {
    execFile(bin, args, { env: { ...process.env, ...env }, cwd, timeout: timeoutMs, maxBuffer: 64 << 20, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        let code = 0;
        if (err) code = err.killed ? 'timeout' : typeof err.code === 'number' ? err.code : String(err.code);
        resolve({ code, stdout, stderr });
      });
  });
}

module.exports = { REPO_ROOT, BUILD, INGEST_BIN, FIXTURE_BIN, startFixture, run };
