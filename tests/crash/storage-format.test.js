'use strict';
// The database format of schema version 5 (src/persistence/blob_codec.h: history in one row per
// run and commit, blobs compressed with a dictionary trained on the database's own records):
//
// 1. A version-5 database (text run and namespace ids, before schema 6's compact keys) and a
//    version-4 one (history one row per event, the executions-by-workflow index) open, migrate,
//    and their workflows still describe, list, read their history, and run on. The old files are
//    made from a fresh server's (whose blobs are still uncompressed: no dictionary before 256 KB
//    of records) by the inverse of the migrations, with the sqlite3 CLI.
// 2. SIGKILL while starts stream in after the dictionary was trained: every acknowledged start
//    is there after the restart with its input intact, compressed rows included.
//
// Workflow tasks are answered through the raw WorkflowService calls (no SDK worker).
// Run: node --test tests/crash/storage-format.test.js

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const { Connection } = require('@temporalio/client');
const { temporal } = require('@temporalio/proto');

const { startServer, makeTempDir, removeDir, uniqueName } = require('../compat/harness');

const NS = 'default';
const CommandType = temporal.api.enums.v1.CommandType;
const EventType = temporal.api.enums.v1.EventType;

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function sql(db, statement) {
  return execFileSync('sqlite3', [db, '.timeout 10000', statement], { encoding: 'utf8' }).trim();
}

// Wake-up times (v7) -> none (v6): the column goes (docs/architecture.md, "Idle runs leave memory").
const kDowngradeToV6 = `
BEGIN;
ALTER TABLE executions DROP COLUMN wake;
PRAGMA user_version = 6;
COMMIT;`;

// Compact keys (v6) -> text ids (v5): 16-byte run ids back to UUID text, namespace keys back to
// the namespaces' ids (the v5 store wrote both as text).
const hexPart = (col, from, n) => `substr(hex(${col}), ${from}, ${n})`;
const runText = (col) => `CASE WHEN typeof(${col}) = 'blob' THEN lower(${hexPart(col, 1, 8)} || '-' || ` +
  `${hexPart(col, 9, 4)} || '-' || ${hexPart(col, 13, 4)} || '-' || ${hexPart(col, 17, 4)} || '-' || ` +
  `${hexPart(col, 21, 12)}) ELSE ${col} END`;
const nsText = (table) => `(SELECT id FROM namespace_keys WHERE key = ${table}.namespace_id)`;
const kDowngradeToV5 = `
BEGIN;
UPDATE executions SET run_id = ${runText('run_id')}, namespace_id = ${nsText('executions')};
UPDATE current_executions SET run_id = ${runText('run_id')}, namespace_id = ${nsText('current_executions')};
UPDATE history SET run_id = ${runText('run_id')};
UPDATE visibility SET namespace_id = ${nsText('visibility')};
DROP TABLE namespace_keys;
PRAGMA user_version = 5;
COMMIT;`;

// history (v5, uncompressed rows) -> history_events (v4). A row holds varint(length) + bytes per
// event (lengths under 16 KB here: at most two varint bytes); its key is its last event id.
const byteAt = (pos) => `((instr('0123456789ABCDEF', substr(hex(substr(data, ${pos}, 1)), 1, 1)) - 1) * 16 + ` +
  `instr('0123456789ABCDEF', substr(hex(substr(data, ${pos}, 1)), 2, 1)) - 1)`;
const hdr = `(CASE WHEN ${byteAt('pos')} < 128 THEN 1 ELSE 2 END)`;
const len = `(CASE WHEN ${byteAt('pos')} < 128 THEN ${byteAt('pos')} ELSE ${byteAt('pos')} - 128 + ${byteAt('pos + 1')} * 128 END)`;
const kDowngradeToV4 = `
BEGIN;
CREATE TABLE history_events(run_id TEXT, event_id INTEGER, data BLOB NOT NULL,
  PRIMARY KEY(run_id, event_id)) WITHOUT ROWID;
CREATE TEMP TABLE split AS WITH RECURSIVE
  byte(run_id, last, data, pos, k, ev) AS (
    SELECT run_id, last_event_id, data, 1, 0, NULL FROM history
    UNION ALL
    SELECT run_id, last, data, pos + ${hdr} + ${len}, k + 1, substr(data, pos + ${hdr}, ${len})
    FROM byte WHERE pos <= length(data))
  SELECT run_id, last, k, ev FROM byte WHERE k > 0;
INSERT INTO history_events(run_id, event_id, data)
  SELECT s.run_id, s.last - c.n + s.k, s.ev FROM split s
  JOIN (SELECT run_id, last, max(k) AS n FROM split GROUP BY run_id, last) c USING (run_id, last);
DROP TABLE history;
DROP TABLE dictionaries;
CREATE INDEX executions_by_workflow ON executions(namespace_id, workflow_id);
PRAGMA user_version = 4;
COMMIT;`;

async function answerNext(svc, taskQueue, commands) {
  for (;;) {
    const task = await svc.pollWorkflowTaskQueue({ namespace: NS, taskQueue: { name: taskQueue }, identity: 'format-test' });
    if (!task.taskToken || task.taskToken.length === 0) continue;
    await svc.respondWorkflowTaskCompleted({ namespace: NS, taskToken: task.taskToken, identity: 'format-test', commands });
    return task;
  }
}

function start(svc, workflowId, taskQueue, input) {
  return svc.startWorkflowExecution({
    namespace: NS,
    workflowId,
    workflowType: { name: 'FormatWorkflow' },
    taskQueue: { name: taskQueue },
    input: input ? { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(input) }] } : undefined,
    requestId: `${workflowId}-request`,
  });
}

async function history(svc, workflowId) {
  const h = await svc.getWorkflowExecutionHistory({ namespace: NS, execution: { workflowId }, maximumPageSize: 1000 });
  return h.history.events.map((e) => ({ id: Number(e.eventId), type: e.eventType }));
}

test('version-5 and version-4 databases migrate and their workflows describe, list and run on', { timeout: 120000 }, async () => {
  const dataDir = makeTempDir('temporalite-format-');
  cleanups.push(() => removeDir(dataDir));
  const db = path.join(dataDir, 'temporalite.db');
  let server = await startServer({ dataDir });
  cleanups.push(() => server && server.stop('SIGKILL'));
  let connection = await Connection.connect({ address: server.address });
  let svc = connection.workflowService;
  const taskQueue = uniqueName('format-tq');
  const closedId = uniqueName('format-closed');
  const openId = uniqueName('format-open');

  await start(svc, closedId, taskQueue, '"closed input"');
  await answerNext(svc, taskQueue, [{
    commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
    completeWorkflowExecutionCommandAttributes: {},
  }]);
  await start(svc, openId, taskQueue, '"open input"');
  await answerNext(svc, taskQueue, [{
    commandType: CommandType.COMMAND_TYPE_START_TIMER,
    startTimerCommandAttributes: { timerId: 't', startToFireTimeout: { seconds: 3600 } },
  }]);
  const closedBefore = await history(svc, closedId);
  const openBefore = await history(svc, openId);
  assert.equal(closedBefore.at(-1).type, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  await connection.close();
  await server.stop();
  server = undefined;

  // The same checks after each migration: histories, describe, list.
  const check = async (svc) => {
    assert.deepEqual(await history(svc, closedId), closedBefore);
    assert.deepEqual(await history(svc, openId), openBefore);
    const closed = await svc.describeWorkflowExecution({ namespace: NS, execution: { workflowId: closedId } });
    assert.equal(closed.workflowExecutionInfo.status, temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);
    assert.equal(Number(closed.workflowExecutionInfo.historyLength), closedBefore.length);
    const list = await svc.listWorkflowExecutions({ namespace: NS, query: `TaskQueue = '${taskQueue}'` });
    assert.deepEqual(list.executions.map((e) => e.execution.workflowId).sort(), [closedId, openId].sort());
  };

  assert.equal(sql(db, 'PRAGMA user_version'), '7');
  assert.equal(sql(db, 'SELECT count(*) FROM dictionaries'), '0');  // too few records to train on
  assert.equal(sql(db, "SELECT count(*) FROM executions WHERE typeof(run_id) = 'blob' AND length(run_id) = 16"), '2');
  // Only the open run, idle on its timer, has a wake-up time: the one armed at start.
  assert.equal(sql(db, 'SELECT count(*) FROM executions WHERE wake IS NOT NULL'), '1');
  const wake = sql(db, 'SELECT wake FROM executions WHERE wake IS NOT NULL');
  sql(db, kDowngradeToV6);
  assert.equal(sql(db, 'PRAGMA user_version'), '6');

  // A version-6 file gains the column (NULL everywhere); recovery parses the idle run's state as
  // before and writes its wake-up time, the same as the server had written.
  server = await startServer({ dataDir });
  connection = await Connection.connect({ address: server.address });
  svc = connection.workflowService;
  assert.equal(sql(db, 'PRAGMA user_version'), '7');
  assert.equal(sql(db, 'SELECT wake FROM executions WHERE wake IS NOT NULL'), wake);
  await check(svc);
  await connection.close();
  await server.stop();
  server = undefined;

  sql(db, kDowngradeToV6);
  sql(db, kDowngradeToV5);
  assert.equal(sql(db, 'PRAGMA user_version'), '5');
  assert.equal(sql(db, "SELECT count(*) FROM executions WHERE typeof(run_id) = 'text'"), '2');

  server = await startServer({ dataDir });
  connection = await Connection.connect({ address: server.address });
  svc = connection.workflowService;
  assert.equal(sql(db, 'PRAGMA user_version'), '7');
  assert.equal(sql(db, "SELECT count(*) FROM executions WHERE typeof(run_id) = 'blob'"), '2');
  await check(svc);
  await connection.close();
  await server.stop();
  server = undefined;

  sql(db, kDowngradeToV6);
  sql(db, kDowngradeToV5);
  sql(db, kDowngradeToV4);
  assert.equal(sql(db, 'PRAGMA user_version'), '4');
  assert.equal(Number(sql(db, 'SELECT count(*) FROM history_events')), closedBefore.length + openBefore.length);

  server = await startServer({ dataDir });
  connection = await Connection.connect({ address: server.address });
  svc = connection.workflowService;
  assert.equal(sql(db, 'PRAGMA user_version'), '7');
  assert.equal(sql(db, "SELECT count(*) FROM sqlite_schema WHERE name IN ('history_events', 'executions_by_workflow')"), '0');
  await check(svc);

  // The open run goes on: a signal, and its next workflow task completes it.
  await svc.signalWorkflowExecution({ namespace: NS, workflowExecution: { workflowId: openId }, signalName: 'go', requestId: uniqueName('sig') });
  await answerNext(svc, taskQueue, [{
    commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
    completeWorkflowExecutionCommandAttributes: {},
  }]);
  const after = await history(svc, openId);
  assert.deepEqual(after.slice(0, openBefore.length), openBefore);
  assert.equal(after.at(-1).type, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  assert.deepEqual(after.map((e) => e.id), after.map((_, i) => i + 1));
  await connection.close();
  await server.stop();
  server = undefined;
});

test('SIGKILL while starts stream in over compressed records: every acknowledged start survives', { timeout: 180000 }, async () => {
  const dataDir = makeTempDir('temporalite-format-kill-');
  cleanups.push(() => removeDir(dataDir));
  const db = path.join(dataDir, 'temporalite.db');
  let server = await startServer({ dataDir });
  cleanups.push(() => server && server.stop('SIGKILL'));
  let connection = await Connection.connect({ address: server.address });
  const svc = connection.workflowService;
  const taskQueue = uniqueName('format-kill-tq');
  const inputOf = (i) => JSON.stringify({ i, text: `record ${i} `.repeat(150) });
  const acked = [];
  // Enough records to train the dictionary (256 KB), then starts until the kill.
  let i = 0;
  const starter = async () => {
    for (;;) {
      const n = i++;
      const id = `format-kill-${n}`;
      try {
        await start(svc, id, taskQueue, inputOf(n));
      } catch {
        return;  // the server is gone
      }
      acked.push(n);
    }
  };
  const starters = Array.from({ length: 8 }, starter);
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline && (acked.length < 150 || sql(db, 'SELECT count(*) FROM dictionaries') === '0')) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const ackedBeforeKill = acked.length;
  server.proc.kill('SIGKILL');
  await Promise.all(starters);
  await server.stop('SIGKILL');
  connection.close().catch(() => {});
  assert.ok(ackedBeforeKill >= 150, `only ${ackedBeforeKill} starts before the deadline`);

  server = await startServer({ dataDir });
  connection = await Connection.connect({ address: server.address });
  const svc2 = connection.workflowService;
  assert.equal(sql(db, 'SELECT count(*) FROM dictionaries'), '1');
  assert.ok(Number(sql(db, "SELECT count(*) FROM history WHERE substr(data, 1, 2) = x'0001'")) > 0, 'no compressed history rows');
  assert.ok(Number(sql(db, "SELECT count(*) FROM executions WHERE substr(state, 1, 2) = x'0001'")) > 0, 'no compressed states');
  for (const n of acked) {
    const workflowId = `format-kill-${n}`;
    const h = await svc2.getWorkflowExecutionHistory({ namespace: NS, execution: { workflowId } });
    const started = h.history.events[0].workflowExecutionStartedEventAttributes;
    assert.equal(Buffer.from(started.input.payloads[0].data).toString(), inputOf(n), workflowId);
    const d = await svc2.describeWorkflowExecution({ namespace: NS, execution: { workflowId } });
    assert.equal(d.workflowExecutionInfo.status, temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
  }
  await connection.close();
  await server.stop();
  server = undefined;
});
