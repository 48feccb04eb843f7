'use strict';
// The compression dictionary is trained on a thread of its own while commits go on
// (src/persistence/blob_codec.h); its row is stored in the transaction of the first record
// compressed with it. SIGKILL around the training never loses or damages a record:
//
// 1. Killed while the training runs (held open for 4 s by a test-only delay): every acknowledged
//    start is there after the restart with its input intact; no dictionary was stored and the
//    records are raw. The restarted server samples again and trains its dictionary.
// 2. Killed right after the dictionary's row reached the file, while starts keep streaming in:
//    every acknowledged start, raw or compressed, reads back intact; the dictionary is the one.
//
// Workflows are started through the raw WorkflowService calls (no worker needed).
// Run: node --test tests/crash/dictionary-crash.test.js

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const { Connection } = require('@temporalio/client');

const { startServer, makeTempDir, removeDir, uniqueName } = require('../compat/harness');
const { cleanupsAfterTests, sigkill } = require('./crash-harness');

const NS = 'default';
const cleanups = cleanupsAfterTests();
const DELAY_ENV = 'TEMPORALITE_TEST_DICTIONARY_TRAINING_DELAY_MS';

const sql = (db, statement) => execFileSync('sqlite3', [db, '.timeout 10000', statement], { encoding: 'utf8' }).trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const inputOf = (n) => JSON.stringify({ n, text: `order ${n} for customer ${n % 97} `.repeat(40) });

function start(svc, workflowId, taskQueue, input) {
  return svc.startWorkflowExecution({
    namespace: NS,
    workflowId,
    workflowType: { name: 'DictionaryWorkflow' },
    taskQueue: { name: taskQueue },
    input: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(input) }] },
    requestId: `${workflowId}-request`,
  });
}

// Starts workflows from 8 concurrent starters until stopped (or the server is gone); `acked`
// collects the numbers of the acknowledged ones.
function streamStarts(svc, taskQueue, prefix, acked) {
  let next = 0;
  let stopped = false;
  const starter = async () => {
    while (!stopped) {
      const n = next++;
      try {
        await start(svc, `${prefix}-${n}`, taskQueue, inputOf(n));
      } catch {
        return; // the server is gone
      }
      acked.push(n);
    }
  };
  const all = Promise.all(Array.from({ length: 8 }, starter));
  return { stop: () => { stopped = true; return all; } };
}

async function waitFor(what, cond, detail = () => '', timeoutMs = 90000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}: ${detail()}`);
}

async function checkAcked(svc, prefix, acked) {
  for (const n of acked) {
    const workflowId = `${prefix}-${n}`;
    const h = await svc.getWorkflowExecutionHistory({ namespace: NS, execution: { workflowId } });
    const started = h.history.events[0].workflowExecutionStartedEventAttributes;
    assert.equal(Buffer.from(started.input.payloads[0].data).toString(), inputOf(n), workflowId);
    const d = await svc.describeWorkflowExecution({ namespace: NS, execution: { workflowId } });
    assert.equal(d.workflowExecutionInfo.execution.workflowId, workflowId);
  }
}

test('SIGKILL while the dictionary trains, and right after it is stored, loses no record', { timeout: 240000 }, async () => {
  const dataDir = makeTempDir('temporalite-dictionary-crash-');
  cleanups.push(() => removeDir(dataDir));
  const db = path.join(dataDir, 'temporalite.db');
  const taskQueue = uniqueName('dictionary-crash-tq');
  process.env[DELAY_ENV] = '4000';
  let server;
  try {
    server = await startServer({ dataDir, logLevel: 'info' });
  } finally {
    delete process.env[DELAY_ENV];
  }
  cleanups.push(() => server && server.stop('SIGKILL'));

  // 1. Killed during the training.
  let connection = await Connection.connect({ address: server.address });
  const first = [];
  let stream = streamStarts(connection.workflowService, taskQueue, 'during', first);
  await waitFor('the training to start', () => /dictionary training started/.test(server.stderr()),
    () => `${first.length} starts acknowledged; server log:\n${server.stderr().slice(-2000)}${server.stdout().slice(-2000)}`);
  await sleep(300 + Math.floor(Math.random() * 1500)); // well inside the 4 s the training is held
  const stored = /compression dictionary 1 .* stored/.test(server.stderr());
  await sigkill(server, 'kill during the training');
  await stream.stop();
  connection.close().catch(() => {});
  assert.equal(stored, false, 'the dictionary was stored before the kill: the training was not held');
  assert.ok(first.length > 0, 'no start acknowledged before the kill');

  server = await startServer({ dataDir, port: server.port, logLevel: 'info' });
  connection = await Connection.connect({ address: server.address });
  assert.equal(sql(db, 'SELECT count(*) FROM dictionaries'), '0');
  assert.equal(sql(db, "SELECT count(*) FROM history WHERE substr(data, 1, 2) = x'0001'"), '0');
  await checkAcked(connection.workflowService, 'during', first);

  // 2. Killed right after the dictionary (trained again, not held this time) reached the file.
  const second = [];
  stream = streamStarts(connection.workflowService, taskQueue, 'after', second);
  await waitFor('the dictionary to be stored', () => sql(db, 'SELECT count(*) FROM dictionaries') === '1', () => `${second.length} starts`);
  await sigkill(server, 'kill after the dictionary');
  await stream.stop();
  connection.close().catch(() => {});

  server = await startServer({ dataDir, port: server.port });
  connection = await Connection.connect({ address: server.address });
  assert.equal(sql(db, 'SELECT count(*) FROM dictionaries'), '1');
  await checkAcked(connection.workflowService, 'during', first);
  await checkAcked(connection.workflowService, 'after', second);
  // Records after the restart are compressed with the stored dictionary and read back too.
  const third = [];
  stream = streamStarts(connection.workflowService, taskQueue, 'later', third);
  await waitFor('more starts', () => third.length >= 40, () => `${third.length} starts`);
  await stream.stop();
  await checkAcked(connection.workflowService, 'later', third);
  assert.ok(Number(sql(db, "SELECT count(*) FROM history WHERE substr(data, 1, 3) = x'000101'")) > 0, 'no compressed history rows');
  await connection.close();
  const res = await server.stop();
  assert.equal(res.code, 0);
  server = undefined;
});
