'use strict';
// Group commit and inline commits under SIGKILL: the writer's adaptive wait (it waits for as
// many batches as the last transaction held, and not at all when one batch at a time arrives) and
// the inline commit (an idle store's commit run on the RPC thread once the engine call returned,
// src/persistence/inline_commit.h) must never let a reply go out before its batch is durable.
// Rounds at different client concurrency (1: every commit inline; 2: inline commits and the
// writer thread mixed; 3: a short, partial wait; 48: full groups) start workflows and signal
// them; the server is killed
// with SIGKILL while requests are in flight, right after an acknowledgement. After a restart on
// the same data directory every acknowledged start exists with its run id, and every
// acknowledged signal is in its workflow's history, and a copy of the files as each kill left them
// passes `PRAGMA integrity_check` (SQLite's own recovery of the WAL, before the restart's) with at
// least as many executions as starts were acknowledged.
//
// Run: node --test tests/crash/group-commit-crash.test.js

const { test, after } = require('node:test');
const assert = require('node:assert/strict');

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { Connection, Client } = require('@temporalio/client');
const { startServer, makeTempDir, removeDir, withTimeout, eventsOfType, uniqueName } = require('../compat/harness');

const NS = 'default';
const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {
      /* best effort */
    }
  }
});

// `PRAGMA integrity_check` on a copy of the database and WAL as a SIGKILL left them (the copy,
// without the -shm, makes SQLite recover the WAL; the originals stay for the restart).
function integrityOfCopy(dataDir, round) {
  const db = path.join(dataDir, 'temporalite.db');
  const copy = path.join(dataDir, `copy-${round}.db`);
  fs.copyFileSync(db, copy);
  fs.copyFileSync(`${db}-wal`, `${copy}-wal`);
  try {
    const rows = execFileSync('sqlite3', [copy, 'PRAGMA integrity_check; SELECT count(*) FROM executions;'], { encoding: 'utf8' });
    return rows.trim().split('\n');
  } finally {
    for (const f of [copy, `${copy}-wal`, `${copy}-shm`]) fs.rmSync(f, { force: true });
  }
}

// Keeps `concurrency` operations in flight until `stop()`; records what was acknowledged.
async function load(client, prefix, concurrency, acked, killAfterAcks, kill) {
  let n = 0;
  let stopped = false;
  let ackCount = 0;
  let onKill = () => {};
  const one = async () => {
    while (!stopped) {
      const id = `${prefix}-${n++}`;
      const taskQueue = `${prefix}-tq`;
      try {
        const h = await client.workflow.start('groupCommitWorkflow', { workflowId: id, taskQueue, args: [] });
        acked.starts.set(id, h.firstExecutionRunId);
        ackCount++;
        await client.workflow.getHandle(id).signal('s', 1);
        acked.signals.set(id, (acked.signals.get(id) ?? 0) + 1);
        ackCount++;
      } catch {
        // The server died under this request: not acknowledged, nothing to check.
        return;
      }
      if (ackCount >= killAfterAcks && !stopped) {
        stopped = true;
        kill(); // Right after an acknowledgement, with the other workers' requests in flight.
        onKill();
      }
    }
  };
  const workers = Array.from({ length: concurrency }, one);
  return { killedOrDone: Promise.race([Promise.all(workers), new Promise((r) => (onKill = r))]), workers };
}

test('acknowledged starts and signals survive SIGKILL at every group-commit regime, inline commits included', { timeout: 240000 }, async () => {
  const dataDir = makeTempDir('temporalite-gc-crash-');
  cleanups.push(() => removeDir(dataDir));
  let server = await startServer({ dataDir });
  const port = server.port;
  cleanups.push(() => server.stop('SIGKILL'));
  const acked = { starts: new Map(), signals: new Map() };

  for (const [round, concurrency, killAfter] of [
    [1, 1, 40],
    [2, 2, 60],
    [3, 3, 60],
    [4, 48, 400],
  ]) {
    // No retry interceptor: a request the kill interrupts fails at once instead of being retried.
    const connection = await Connection.connect({ address: server.address, interceptors: [] });
    const client = new Client({ connection, namespace: NS });
    let killed;
    const kill = () => {
      killed = server.kill();
    };
    const run = await load(client, uniqueName(`gc${round}`), concurrency, acked, killAfter, kill);
    await withTimeout(run.killedOrDone, 90000, `round ${round} load`);
    assert.ok(killed, `round ${round}: the server was killed`);
    const res = await killed;
    assert.equal(res.signal, 'SIGKILL', `round ${round}: killed by SIGKILL`);
    const [integrity, executions] = integrityOfCopy(dataDir, round);
    assert.equal(integrity, 'ok', `round ${round}: integrity_check after SIGKILL`);
    assert.ok(Number(executions) >= acked.starts.size, `round ${round}: ${executions} executions, ${acked.starts.size} acknowledged`);
    // Requests in flight at the kill end now (the client would otherwise retry them).
    await connection.close().catch(() => {});
    await withTimeout(Promise.allSettled(run.workers), 30000, `round ${round} in-flight requests`);
    server = await startServer({ dataDir, port });
  }

  const connection = await Connection.connect({ address: server.address });
  cleanups.push(() => connection.close());
  const client = new Client({ connection, namespace: NS });
  assert.ok(acked.starts.size >= 200, `enough acknowledged starts (${acked.starts.size})`);
  const ids = [...acked.starts.keys()];
  // Check in slices of 32 so the check itself is quick.
  for (let i = 0; i < ids.length; i += 32) {
    await Promise.all(
      ids.slice(i, i + 32).map(async (id) => {
        const desc = await client.workflow.getHandle(id).describe();
        assert.equal(desc.runId, acked.starts.get(id), `${id}: the acknowledged run`);
        const want = acked.signals.get(id) ?? 0;
        if (want > 0) {
          const history = await client.workflow.getHandle(id, acked.starts.get(id)).fetchHistory();
          const got = eventsOfType(history, 'WORKFLOW_EXECUTION_SIGNALED').length;
          assert.ok(got >= want, `${id}: ${want} acknowledged signal(s), ${got} in history`);
        }
      }),
    );
  }
  await client.workflow.getHandle(ids[0]).terminate('done');
  await server.stop();
});
