'use strict';
// `temporalite schedule ...` against the real server binary: the runbook line (--schedule phrase),
// list/describe (text and JSON), toggle, trigger, backfill, list-matching-times, update, delete,
// and the errors (unparseable phrase, unknown zone, duplicate id, unknown schedule).
//
// Run: node --test tests/cli/schedule.test.js

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');

const { startServer, pollUntil, uniqueName, makeTempDir, removeDir, serverBinary } = require('../compat/harness');

let server;
let cwd;

function cli(args, { timeoutMs = 30000 } = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TEMPORAL_')) env[k] = v;
  return new Promise((resolve) => {
    execFile(
      process.env.TEMPORALITE_CLI_BIN || serverBinary(),
      [...args, '--address', server.address],
      { env, cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        let code = 0;
        if (err) code = err.killed ? 'timeout' : typeof err.code === 'number' ? err.code : String(err.code);
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function ok(args) {
  const r = await cli(args);
  assert.equal(r.code, 0, `temporalite ${args.join(' ')} failed (code ${r.code})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r.stdout;
}

async function okJson(args) {
  const out = await ok([...args, '-o', 'json']);
  return JSON.parse(out);
}

before(
  async () => {
    cwd = makeTempDir('temporalite-cli-sched-cwd-');
    server = await startServer();
  },
  { timeout: 60000 },
);

after(async () => {
  if (server) await server.stop('SIGTERM');
  if (cwd) removeDir(cwd);
});

test('the runbook line creates a schedule that runs every 2h between 06:00 and 22:00 SAST', async () => {
  const id = uniqueName('checkers-hourly');
  const create = await cli([
    'schedule', 'create', '--schedule-id', id, '--workflow', 'CheckersIngestionWorkflow',
    '--task-queue', 'ingestion', '--schedule', 'every 2h between 06:00-22:00 Africa/Johannesburg',
  ]);
  assert.equal(create.code, 0, create.stderr);
  assert.equal(create.stderr, '');

  // schedule list (text): one row with the id, the workflow type and Paused false.
  const list = await ok(['schedule', 'list']);
  const header = list.split('\n')[0];
  for (const col of ['ScheduleId', 'Workflow', 'Paused', 'NextRunTime', 'LastRunTime']) assert.match(header, new RegExp(col));
  const row = list.split('\n').find((l) => l.includes(id));
  assert.ok(row, list);
  assert.match(row, /CheckersIngestionWorkflow\s+false/);

  // describe -o json: the phrase became a structured calendar in Africa/Johannesburg.
  const d = await okJson(['schedule', 'describe', '--schedule-id', id]);
  const spec = d.schedule.spec;
  assert.equal(spec.timezoneName, 'Africa/Johannesburg');
  assert.equal(spec.structuredCalendar.length, 1);
  assert.deepEqual(spec.structuredCalendar[0].hour, [{ start: 6, end: 22, step: 2 }]);
  assert.equal(d.schedule.action.startWorkflow.workflowType.name, 'CheckersIngestionWorkflow');
  assert.equal(d.schedule.action.startWorkflow.workflowId, `${id}-workflow`);
  assert.equal(d.schedule.policies.overlapPolicy, 'SCHEDULE_OVERLAP_POLICY_SKIP');
  // Every next time is on an even hour between 06:00 and 22:00 SAST (UTC+2) at minute 0.
  assert.equal(d.info.futureActionTimes.length, 10);
  for (const t of d.info.futureActionTimes) {
    const date = new Date(t);
    const sastHour = (date.getUTCHours() + 2) % 24;
    assert.ok(sastHour >= 6 && sastHour <= 22 && sastHour % 2 === 0, t);
    assert.equal(date.getUTCMinutes(), 0);
  }

  // list-matching-times over one day: 9 times, 04:00Z..20:00Z.
  const times = (
    await ok([
      'schedule', 'list-matching-times', '--schedule-id', id,
      '--start-time', '2026-03-02T00:00:00Z', '--end-time', '2026-03-02T23:59:59Z',
    ])
  ).trim().split('\n');
  assert.deepEqual(times, [4, 6, 8, 10, 12, 14, 16, 18, 20].map((h) => `2026-03-02T${String(h).padStart(2, '0')}:00:00Z`));

  // Text describe.
  const text = await ok(['schedule', 'describe', '--schedule-id', id]);
  assert.match(text, /TimeZoneName\s+Africa\/Johannesburg/);
  assert.match(text, /hour=6-22\/2/);
  assert.match(text, /OverlapPolicy\s+Skip/);

  // The runbook's own form: the schedule id positional (`schedule create checkers-hourly ...`).
  const positional = uniqueName('checkers-hourly');
  const r = await cli(['schedule', 'create', positional, '--workflow', 'CheckersIngestionWorkflow',
    '--task-queue', 'ingestion', '--schedule', 'every 2h between 06:00-22:00 Africa/Johannesburg']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await okJson(['schedule', 'describe', positional])).schedule.spec.timezoneName, 'Africa/Johannesburg');
  await ok(['schedule', 'delete', positional]);
});

test('toggle, trigger, backfill, update and delete', async () => {
  const id = uniqueName('cli-sched');
  assert.match(await ok(['schedule', 'create', '-s', id, '--type', 'SomeWorkflow', '-t', 'q-none', '--interval', '1h',
    '--overlap-policy', 'AllowAll', '--notes', 'first']), /^Schedule created$/m);

  assert.match(await ok(['schedule', 'toggle', '-s', id, '--pause', '--reason', 'load shedding']), /^Schedule paused$/m);
  let d = await okJson(['schedule', 'describe', '-s', id]);
  assert.equal(d.schedule.state.paused, true);
  assert.equal(d.schedule.state.notes, 'load shedding');
  const paused = await ok(['schedule', 'list', '--query', `ScheduleId = '${id}' AND TemporalSchedulePaused = true`]);
  assert.ok(paused.includes(id), paused);
  assert.match(await ok(['schedule', 'toggle', '-s', id, '--unpause', '--reason', 'back']), /^Schedule unpaused$/m);
  const neither = await cli(['schedule', 'toggle', '-s', id]);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /exactly one of --pause or --unpause is required/);

  assert.match(await ok(['schedule', 'trigger', '-s', id, '--overlap-policy', 'AllowAll']), /Trigger request sent/);
  d = await pollUntil(
    async () => {
      const x = await okJson(['schedule', 'describe', '-s', id]);
      return Number(x.info.actionCount ?? 0) === 1 ? x : null;
    },
    { what: 'trigger taken' },
  );
  const wid = d.info.recentActions[0].startWorkflowResult.workflowId;
  assert.match(wid, new RegExp(`^${id}-workflow-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`));
  const wf = await okJson(['workflow', 'describe', '-w', wid]);
  assert.equal(wf.workflowExecutionInfo.type.name, 'SomeWorkflow');

  // Backfill three hours: three runs at whole hours.
  assert.match(
    await ok(['schedule', 'backfill', '-s', id, '--start-time', '2024-01-01T00:00:00Z', '--end-time',
      '2024-01-01T02:00:00Z', '--overlap-policy', 'AllowAll']),
    /Backfill request sent/,
  );
  d = await pollUntil(
    async () => {
      const x = await okJson(['schedule', 'describe', '-s', id]);
      return Number(x.info.actionCount ?? 0) === 4 ? x : null;
    },
    { what: 'backfill taken' },
  );
  const backfilled = d.info.recentActions.slice(1).map((a) => a.startWorkflowResult.workflowId).sort();
  assert.deepEqual(backfilled, ['00', '01', '02'].map((h) => `${id}-workflow-2024-01-01T${h}:00:00Z`));
  // The runs exist, with their schedule time as TemporalScheduledStartTime (Temporal's backfill),
  // started now rather than in 2024.
  for (const [i, h] of ['00', '01', '02'].entries()) {
    const wf = await okJson(['workflow', 'describe', '-w', backfilled[i]]);
    const sa = wf.workflowExecutionInfo.searchAttributes.indexedFields;
    const scheduled = JSON.parse(Buffer.from(sa.TemporalScheduledStartTime.data, 'base64').toString());
    assert.equal(Date.parse(scheduled), Date.parse(`2024-01-01T${h}:00:00Z`), scheduled);
    assert.ok(Date.parse(wf.workflowExecutionInfo.startTime) > Date.parse('2025-01-01T00:00:00Z'), wf.workflowExecutionInfo.startTime);
  }

  // Update replaces the spec.
  await ok(['schedule', 'update', '-s', id, '--type', 'SomeWorkflow', '-t', 'q-none', '--cron', '30 5 * * *',
    '--time-zone', 'America/New_York']);
  d = await okJson(['schedule', 'describe', '-s', id]);
  assert.equal(d.schedule.spec.timezoneName, 'America/New_York');
  assert.equal(d.schedule.spec.interval, undefined);
  assert.deepEqual(d.schedule.spec.structuredCalendar[0].hour, [{ start: 5 }]);
  assert.ok(d.info.updateTime);

  assert.match(await ok(['schedule', 'delete', '-s', id]), /Schedule deleted/);
  const gone = await cli(['schedule', 'describe', '-s', id]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /schedule not found \(NOT_FOUND\)/);
  for (const a of d.info.recentActions) await cli(['workflow', 'terminate', '-w', a.startWorkflowResult.workflowId]);
});

test('errors: unparseable phrase, unknown zone, no spec, duplicate id, bad overlap policy', async () => {
  const id = uniqueName('cli-sched-err');
  const bad = await cli(['schedule', 'create', '-s', id, '--workflow', 'W', '-t', 'q', '--schedule', 'every 2h betwen 06:00-22:00']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid schedule phrase "every 2h betwen 06:00-22:00": unexpected "betwen"/);

  const zone = await cli(['schedule', 'create', '-s', id, '--workflow', 'W', '-t', 'q', '--schedule', 'daily at 03:30 Mars/Olympus']);
  assert.equal(zone.code, 1);
  assert.match(zone.stderr, /Invalid schedule spec: unknown time zone "Mars\/Olympus".*INVALID_ARGUMENT/);

  const none = await cli(['schedule', 'create', '-s', id, '--workflow', 'W', '-t', 'q']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no schedule: give --schedule, --cron, --calendar or --interval/);

  const policy = await cli(['schedule', 'create', '-s', id, '--workflow', 'W', '-t', 'q', '--interval', '1h', '--overlap-policy', 'Sometimes']);
  assert.equal(policy.code, 2);
  assert.match(policy.stderr, /invalid --overlap-policy "Sometimes"/);

  await ok(['schedule', 'create', '-s', id, '--workflow', 'W', '-t', 'q', '--schedule', 'weekdays at 09:00,17:30 America/New_York']);
  const dup = await cli(['schedule', 'create', '-s', id, '--workflow', 'W', '-t', 'q', '--interval', '1h']);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /schedule with this ID is already registered \(ALREADY_EXISTS\)/);

  const query = await cli(['schedule', 'list', '--query', 'StartTime > "2024-01-01T00:00:00Z"']);
  assert.equal(query.code, 1);
  assert.match(query.stderr, /invalid query filter for schedules: cannot filter on "StartTime".*INVALID_ARGUMENT/);
  await ok(['schedule', 'delete', '-s', id]);
});
