'use strict';
// Storage errors at run time through the CLI (issue 15, item 4): the server answers INTERNAL
// ("storage error: ...", no SQL text, not retryable), and the CLI says so: a clear message, exit
// status 1, without blaming TLS or calling the server unreachable. The store's faults come from
// the fault-injecting VFS (tests/faults/fault_vfs.cc, a library the test preloads): a read
// that fails (workflow describe of a run that is not in memory, show, list, count) and a write
// that fails (workflow start; the server then stops serving and resumes, as
// tests/crash/store-faults.test.js checks in detail).
//
// Run: tests/run-node-tests.sh tests/cli/cli-storage-errors.test.js

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { cli, uniqueName, makeTempDir, removeDir } = require('./cli-harness');
const { cleanupsAfterTests, startServerWithFaults } = require('../crash/crash-harness');

const cleanups = cleanupsAfterTests();

function startWithFaults(dataDir, control) {
  return startServerWithFaults(control, { dataDir });
}

/** Waits (bounded) until the server's stderr matches `re`. */
async function waitForLog(server, re, ms) {
  const deadline = Date.now() + ms;
  while (!re.test(server.stderr())) {
    if (Date.now() > deadline) throw new Error(`no log line ${re} within ${ms} ms\n${server.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The CLI's report of a storage error: INTERNAL, named as storage, no misleading hint. */
function assertStorageError(r, what) {
  const shown = `${what}: exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  assert.equal(r.code, 1, shown);
  assert.match(r.stderr, /storage error: disk I\/O error \(INTERNAL\)/, shown);
  assert.doesNotMatch(r.stderr, /TLS|--tls|cannot reach|is the server running|lost connection|got no answer/i, shown);
  assert.doesNotMatch(r.stderr, /sqlite|SELECT|INSERT|UPDATE /i, `no SQL text: ${shown}`);
}

test('storage errors: the CLI reports INTERNAL "storage error", exits 1, blames neither TLS nor the network', { timeout: 90000 }, async () => {
  const dataDir = makeTempDir('temporalite-cli-storage-');
  cleanups.push(() => removeDir(dataDir));
  const control = path.join(dataDir, 'FAULT');
  let server = await startWithFaults(dataDir, control);
  cleanups.push(() => server.stop('SIGKILL'));
  const tl = (args) => cli([...args, '--address', server.address], { dir: dataDir });
  const ok = async (args) => {
    const r = await tl(args);
    assert.equal(r.code, 0, `temporalite ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  };
  const start = (id) => ok(['workflow', 'start', '--type', 'W', '--task-queue', 'cli-storage-tq', '--workflow-id', id]);

  const open = uniqueName('storage-open');
  const closed = uniqueName('storage-closed');
  await start(open);
  await start(closed);
  await ok(['workflow', 'terminate', '--workflow-id', closed]);
  // A restart: the closed run is no longer in memory (describing it reads the store).
  assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
  server = await startWithFaults(dataDir, control);

  const reads = [
    ['workflow describe of a closed run', ['workflow', 'describe', '--workflow-id', closed]],
    ['workflow show', ['workflow', 'show', '--workflow-id', open]],
    ['workflow list', ['workflow', 'list']],
    ['workflow count', ['workflow', 'count']],
  ];
  for (const [what, args] of reads) {
    // A background read (retention, schedules) may take the armed fault first: then arm again.
    let r;
    for (let attempt = 0; attempt < 3; attempt++) {
      await start(uniqueName('storage-bump')); // a commit: every reader re-reads pages from the files
      fs.writeFileSync(control, 'read-fail');
      r = await tl(args);
      assert.ok(!fs.existsSync(control), `${what}: the read fault fired`);
      if (r.code !== 0) break;
    }
    assertStorageError(r, what);
  }
  // A read error is answered, not fatal: the server goes on serving.
  assert.match(await ok(['workflow', 'describe', '--workflow-id', closed]), /TERMINATED|Terminated/);

  // A write the store refuses: the start is not acknowledged, and says why.
  fs.writeFileSync(control, 'write-fail');
  assertStorageError(await tl(['workflow', 'start', '--type', 'W', '--task-queue', 'cli-storage-tq',
    '--workflow-id', uniqueName('storage-doomed')]), 'workflow start');
  // The server stops serving, then resumes (same process) once writes succeed.
  await waitForLog(server, /resumed after a storage failure/, 20000);
  assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
});
