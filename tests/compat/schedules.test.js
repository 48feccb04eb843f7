'use strict';
// Temporal Schedules through the official TypeScript SDK's client.schedule API: create, describe,
// update, pause/unpause, trigger, backfill, list, delete, errors, runs fired by the schedule's
// own timer, and the schedule surviving a server restart (SIGKILL) on the same data directory.

const assert = require('node:assert/strict');
const { Connection, Client, ScheduleAlreadyRunning, ScheduleNotFoundError } = require('@temporalio/client');

const { setupSuite, test, TEST_TIMEOUT, NS, resultWithin } = require('./suite');
const { startServer, makeTempDir, removeDir, pollUntil, uniqueName } = require('./harness');

const suite = setupSuite();

async function describeUntil(handle, pred, what) {
  let last;
  await pollUntil(
    async () => {
      last = await handle.describe();
      return pred(last);
    },
    { timeoutMs: 15000, what },
  );
  return last;
}

test('create, describe, update, pause/unpause, trigger, backfill, list and delete', { timeout: 60000 }, async () => {
  const { client } = suite;
  const scheduleId = uniqueName('sched-life');
  const taskQueue = uniqueName('tq-sched');
  const handle = await client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '1h' }] },
    action: { type: 'startWorkflow', workflowType: 'echoWorkflow', args: ['hello'], taskQueue },
    memo: { owner: 'ops' },
  });

  let d = await handle.describe();
  assert.equal(d.scheduleId, scheduleId);
  assert.equal(d.spec.intervals.length, 1);
  assert.equal(d.spec.intervals[0].every, 3600000);
  assert.equal(d.action.workflowType, 'echoWorkflow');
  assert.equal(d.action.workflowId, `${scheduleId}-workflow`);
  assert.deepEqual(d.action.args, ['hello']);
  assert.equal(d.policies.overlap, 'SKIP'); // Temporal's default, filled in on describe
  assert.equal(d.policies.catchupWindow, 365 * 24 * 3600 * 1000);
  assert.equal(d.state.paused, false);
  assert.deepEqual(d.memo, { owner: 'ops' });
  assert.ok(d.info.createdAt instanceof Date);
  assert.equal(d.info.numActionsTaken, 0);
  assert.equal(d.info.nextActionTimes.length, 10);
  // Interval times are multiples of the interval since the epoch.
  for (const t of d.info.nextActionTimes) assert.equal(t.getTime() % 3600000, 0);

  // Duplicate id.
  await assert.rejects(
    client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1h' }] },
      action: { type: 'startWorkflow', workflowType: 'echoWorkflow', taskQueue },
    }),
    (e) => e instanceof ScheduleAlreadyRunning,
  );

  // Update: a calendar spec and a note.
  await handle.update((prev) => ({
    ...prev,
    spec: { calendars: [{ hour: 5, minute: 30 }] },
    state: { ...prev.state, note: 'updated' },
  }));
  d = await handle.describe();
  assert.equal(d.spec.calendars.length, 1);
  assert.deepEqual(d.spec.calendars[0].hour, [{ start: 5, end: 5, step: 1 }]);
  assert.equal(d.state.note, 'updated');
  assert.ok(d.info.lastUpdatedAt instanceof Date);
  for (const t of d.info.nextActionTimes) {
    assert.equal(t.getUTCHours(), 5);
    assert.equal(t.getUTCMinutes(), 30);
  }

  await handle.pause('maintenance window');
  d = await handle.describe();
  assert.equal(d.state.paused, true);
  assert.equal(d.state.note, 'maintenance window');
  await handle.unpause('back to work');
  d = await handle.describe();
  assert.equal(d.state.paused, false);
  assert.equal(d.state.note, 'back to work');

  await suite.withWorker(taskQueue, async () => {
    // Trigger: one run now, with Temporal's workflow id and search attributes.
    await handle.trigger();
    d = await describeUntil(handle, (x) => x.info.numActionsTaken === 1, 'trigger taken');
    const action = d.info.recentActions[0].action;
    assert.match(action.workflow.workflowId, new RegExp(`^${scheduleId}-workflow-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`));
    const run = client.workflow.getHandle(action.workflow.workflowId, action.workflow.firstExecutionRunId);
    assert.equal(await resultWithin(run), 'hello');
    const wd = await run.describe();
    assert.deepEqual(wd.searchAttributes.TemporalScheduledById, [scheduleId]);
    assert.ok(wd.searchAttributes.TemporalScheduledStartTime);

    // Backfill the last three whole hours at 05:30 UTC... the spec is daily 05:30, so backfill
    // three days back: three runs, one per day.
    const end = new Date();
    const start = new Date(end.getTime() - 3 * 24 * 3600 * 1000);
    await handle.backfill({ start, end, overlap: 'ALLOW_ALL' });
    d = await describeUntil(handle, (x) => x.info.numActionsTaken === 4, 'backfill taken');
    const backfilled = d.info.recentActions.slice(1).map((a) => a.action.workflow.workflowId);
    assert.equal(backfilled.length, 3);
    for (const id of backfilled) assert.match(id, /T05:30:00Z$/);
    assert.equal(new Set(backfilled).size, 3);
    for (const id of backfilled) assert.equal(await resultWithin(client.workflow.getHandle(id)), 'hello');
    // As Temporal's backfill: each run is named after its schedule time, carries it as
    // TemporalScheduledStartTime (and the action's scheduledAt), and started when the backfill
    // ran, not at that (past) time.
    for (const a of d.info.recentActions.slice(1)) {
      const nominal = a.scheduledAt.getTime();
      assert.ok(nominal >= start.getTime() && nominal <= end.getTime(), `${a.scheduledAt.toISOString()} in the range`);
      assert.equal(a.action.workflow.workflowId, `${scheduleId}-workflow-${a.scheduledAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}`);
      const wd = await client.workflow.getHandle(a.action.workflow.workflowId).describe();
      assert.equal(wd.searchAttributes.TemporalScheduledStartTime[0].getTime(), nominal);
      assert.deepEqual(wd.searchAttributes.TemporalScheduledById, [scheduleId]);
      assert.ok(wd.startTime.getTime() >= end.getTime() - 1000, `started at ${wd.startTime.toISOString()}, when the backfill ran`);
    }
  });

  // List, with and without a query.
  const all = [];
  for await (const s of client.schedule.list()) all.push(s);
  const mine = all.find((s) => s.scheduleId === scheduleId);
  assert.ok(mine, 'listed');
  assert.equal(mine.action.workflowType, 'echoWorkflow');
  assert.equal(mine.state.paused, false);
  assert.deepEqual(mine.memo, { owner: 'ops' });
  const filtered = [];
  for await (const s of client.schedule.list({ query: `ScheduleId = '${scheduleId}'` })) filtered.push(s.scheduleId);
  assert.deepEqual(filtered, [scheduleId]);
  await assert.rejects(
    (async () => {
      for await (const s of client.schedule.list({ query: 'ExecutionDuration > 5' })) void s;
    })(),
    (e) => /invalid query filter for schedules: cannot filter on "ExecutionDuration"/.test(String(e.cause?.details ?? e.cause?.message ?? e.message)),
  );

  await handle.delete();
  await assert.rejects(handle.describe(), (e) => e instanceof ScheduleNotFoundError);
  await assert.rejects(handle.delete(), (e) => e instanceof ScheduleNotFoundError);
});

test('the schedule fires on its own timer and respects overlap SKIP', { timeout: 60000 }, async () => {
  const { client } = suite;
  const scheduleId = uniqueName('sched-timer');
  const taskQueue = uniqueName('tq-sched-timer');
  const handle = await client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '1s' }] },
    action: { type: 'startWorkflow', workflowType: 'sleepLongWorkflow', taskQueue },
    policies: { overlap: 'SKIP' },
  });
  try {
    // No worker: the first run stays running and later times are skipped.
    const d = await describeUntil(handle, (x) => x.info.numActionsSkippedOverlap >= 2, 'overlap skips');
    assert.equal(d.info.numActionsTaken, 1);
    assert.equal(d.info.runningActions.length, 1);
    const wid = d.info.runningActions[0].workflow.workflowId;
    // Terminate it: the next time starts a new run.
    await client.workflow.getHandle(wid).terminate('test');
    const d2 = await describeUntil(handle, (x) => x.info.numActionsTaken >= 2, 'next run after close');
    assert.notEqual(d2.info.runningActions[0]?.workflow.workflowId, wid);
    await handle.pause('stop');
  } finally {
    const d = await handle.describe().catch(() => null);
    for (const a of d?.info.runningActions ?? []) await suite.terminateQuietly(a.workflow.workflowId);
    await handle.delete().catch(() => {});
  }
});

test('invalid schedules are rejected with INVALID_ARGUMENT', { timeout: TEST_TIMEOUT }, async () => {
  const { client } = suite;
  await assert.rejects(
    client.schedule.create({
      scheduleId: uniqueName('bad'),
      spec: { cronExpressions: ['61 * * * *'] },
      action: { type: 'startWorkflow', workflowType: 'echoWorkflow', taskQueue: 'tq' },
    }),
    // The SDK turns "Invalid schedule spec: ..." into a TypeError.
    (e) => e instanceof TypeError,
  );
});

test('raw gRPC: bad schedule requests get Temporal status codes and change nothing', { timeout: TEST_TIMEOUT }, async () => {
  const svc = suite.connection.workflowService;
  const scheduleId = uniqueName('sched-bad');
  const base = {
    namespace: NS,
    scheduleId,
    requestId: 'r1',
    schedule: {
      spec: { interval: [{ interval: { seconds: 3600 } }] },
      action: { startWorkflow: { workflowId: 'w', workflowType: { name: 'T' }, taskQueue: { name: 'q' } } },
    },
  };
  const code = async (p) => {
    try {
      await p;
      return 0;
    } catch (e) {
      return e.code;
    }
  };
  const INVALID_ARGUMENT = 3;
  const NOT_FOUND = 5;
  assert.equal(await code(svc.createSchedule({ ...base, scheduleId: '' })), INVALID_ARGUMENT);
  assert.equal(await code(svc.createSchedule({ ...base, schedule: { spec: base.schedule.spec } })), INVALID_ARGUMENT);
  assert.equal(
    await code(svc.createSchedule({ ...base, schedule: { ...base.schedule, spec: { interval: [{ interval: { seconds: 0 } }] } } })),
    INVALID_ARGUMENT,
  );
  assert.equal(
    await code(svc.createSchedule({ ...base, schedule: { ...base.schedule, spec: { timezoneName: 'Nowhere/Land', cronString: ['0 * * * *'] } } })),
    INVALID_ARGUMENT,
  );
  assert.equal(await code(svc.createSchedule({ ...base, namespace: 'no-such-namespace' })), NOT_FOUND);
  assert.equal(await code(svc.describeSchedule({ namespace: NS, scheduleId })), NOT_FOUND);
  assert.equal(await code(svc.patchSchedule({ namespace: NS, scheduleId, patch: { pause: 'x' } })), NOT_FOUND);
  assert.equal(await code(svc.listSchedules({ namespace: NS, query: 'ScheduleId = ' })), INVALID_ARGUMENT);
  // Nothing was created; then a valid one, and a backfill ending before it starts.
  assert.equal(await code(svc.createSchedule(base)), 0);
  const bad = { namespace: NS, scheduleId, patch: { backfillRequest: [{ startTime: { seconds: 2000 }, endTime: { seconds: 1000 } }] } };
  assert.equal(await code(svc.patchSchedule(bad)), INVALID_ARGUMENT);
  const d = await svc.describeSchedule({ namespace: NS, scheduleId });
  assert.equal(Number(d.info.actionCount ?? 0), 0);
  assert.equal((d.info.bufferSize ?? 0).toString(), '0');
  await svc.deleteSchedule({ namespace: NS, scheduleId });
});

test('schedules survive a server crash and restart', { timeout: 90000 }, async () => {
  const dataDir = makeTempDir();
  let server = await startServer({ dataDir });
  let connection;
  try {
    connection = await Connection.connect({ address: server.address });
    let client = new Client({ connection, namespace: NS });
    const scheduleId = uniqueName('sched-restart');
    const handle = await client.schedule.create({
      scheduleId,
      spec: { calendars: [{ hour: 3, minute: 15 }] },
      action: { type: 'startWorkflow', workflowType: 'sleepLongWorkflow', taskQueue: 'tq-restart' },
      state: { triggerImmediately: true, note: 'created' },
    });
    const before = await describeUntil(handle, (x) => x.info.numActionsTaken === 1, 'initial trigger');
    const firstRun = before.info.recentActions[0].action.workflow.workflowId;

    const port = server.port;
    await connection.close();
    await server.kill(); // SIGKILL
    server = await startServer({ dataDir, port });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: NS });
    const h = client.schedule.getHandle(scheduleId);
    const after = await h.describe();
    assert.equal(after.info.numActionsTaken, 1);
    assert.equal(after.info.createdAt.getTime(), before.info.createdAt.getTime());
    assert.equal(after.info.recentActions[0].action.workflow.workflowId, firstRun);
    assert.equal(after.state.note, 'created');
    assert.deepEqual(after.info.nextActionTimes, before.info.nextActionTimes);

    await h.update((prev) => ({ ...prev, policies: { ...prev.policies, overlap: 'ALLOW_ALL' } }));
    await h.pause('paused after restart');
    // A trigger in the same second as the first would reuse its workflow id (Temporal appends the
    // time in whole seconds) and be refused while that run is open: close it first.
    await client.workflow.getHandle(firstRun).terminate('make room');
    await h.trigger(); // manual: allowed while paused
    const d = await describeUntil(h, (x) => x.info.numActionsTaken === 2, 'trigger after restart');
    assert.equal(d.state.paused, true);
    assert.equal(d.policies.overlap, 'ALLOW_ALL');
    const ids = [];
    for await (const s of client.schedule.list({ query: `ScheduleId = '${scheduleId}'` })) ids.push(s.scheduleId);
    assert.deepEqual(ids, [scheduleId]);
    for (const a of d.info.recentActions) {
      await client.workflow.getHandle(a.action.workflow.workflowId).terminate('cleanup').catch(() => {});
    }
    await h.delete();
    await assert.rejects(h.describe(), (e) => e instanceof ScheduleNotFoundError);
  } finally {
    if (connection) await connection.close().catch(() => {});
    await server.stop('SIGTERM').catch(() => {});
    removeDir(dataDir);
  }
});
