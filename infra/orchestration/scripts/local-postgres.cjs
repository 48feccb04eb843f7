'use strict';
// A throwaway PostgreSQL cluster for tests, the benchmark and the demo (Debian's postgresql package): initdb in a temp dir,
// postgres on a free loopback port, trust auth for the cluster's own superuser "tillless".
// PostgreSQL refuses to run as root, so as root the cluster belongs to the package's dedicated
// `postgres` system user (setpriv drops to it; no shell or password involved).

const { spawn, spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

function pgBinDir() {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => b - a) : [];
  for (const v of versions) {
    const dir = path.join(base, v, 'bin');
    if (fs.existsSync(path.join(dir, 'initdb'))) return dir;
  }
  throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function asUserArgs(uid, gid) {
  return uid === undefined ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'];
}

async function startPostgres() {
  const bin = pgBinDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tillless-pg-'));
  let uid;
  let gid;
  if (process.getuid() === 0) {
    uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    fs.chownSync(dir, uid, gid);
  }
  const wrap = asUserArgs(uid, gid);
  const data = path.join(dir, 'data');
  const init = spawnSync(wrap[0] || path.join(bin, 'initdb'),
    [...wrap.slice(1), ...(wrap.length ? [path.join(bin, 'initdb')] : []),
      '-D', data, '-U', 'tillless', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'],
    { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed:\n${init.stdout}\n${init.stderr}`);
  const port = await freePort();
  const pg = {
    dir,
    port,
    url: (db = 'tillless') => `postgres://tillless@127.0.0.1:${port}/${db}`,
    proc: null,
    log: '',
  };
  pg.start = async () => {
    const args = ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=100', '-c', 'shared_buffers=64MB'];
    const cmd = wrap.length ? wrap[0] : path.join(bin, 'postgres');
    const full = wrap.length ? [...wrap.slice(1), path.join(bin, 'postgres'), ...args] : args;
    const proc = spawn(cmd, full, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.unref();
    proc.stdout.unref();
    proc.stderr.unref();
    proc.stderr.on('data', (c) => { pg.log = (pg.log + c).slice(-20000); });
    pg.proc = proc;
    pg.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + 30000;
    for (;;) {
      const r = spawnSync(path.join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-t', '1'], { encoding: 'utf8' });
      if (r.status === 0) break;
      if (Date.now() > deadline) throw new Error(`postgres did not become ready:\n${pg.log}`);
      if (proc.exitCode !== null) throw new Error(`postgres exited:\n${pg.log}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  /** Stops the server: 'SIGINT' fast shutdown, 'SIGQUIT' immediate (crash-like, recovery at start). */
  pg.stop = async (signal = 'SIGINT') => {
    if (!pg.proc || pg.proc.exitCode !== null || pg.proc.signalCode !== null) return;
    pg.proc.kill(signal);
    const t = setTimeout(() => pg.proc.kill('SIGKILL'), 20000);
    await pg.exited;
    clearTimeout(t);
  };
  pg.psql = (sql, db = 'tillless') => {
    const r = spawnSync('psql', ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port),
      '-U', 'tillless', '-d', db, '-c', sql], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`psql failed: ${sql}\n${r.stderr}`);
    return r.stdout.trim();
  };
  pg.destroy = async () => {
    await pg.stop('SIGINT');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  await pg.start();
  pg.psql('CREATE DATABASE tillless', 'postgres');
  return pg;
}

module.exports = { startPostgres, freePort };
