'use strict';
// The Web UI's write actions, driven in Debian's chromium (playwright-core) against the real
// server with a TypeScript SDK worker; each action is checked through the SDK afterwards, and
// every /api/v1 call the browser makes must succeed (the UI is the judge of the HTTP layer):
//   - start a workflow from the start-workflow page;
//   - an update, a cancel request and a reset from a workflow's page;
//   - schedules: create, edit, pause/unpause, trigger, backfill, delete;
//   - batch terminate, batch cancel and batch reset of the workflows a list query selects.
// (The UI 2.38 offers no batch signal: its list has cancel, reset and terminate.)
//
// Run: tests/run-node-tests.sh tests/ui/actions.test.js   (env TEMPORALITE_CHROMIUM: the browser)

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { CHROMIUM, launchBrowser, tearDown } = require('./browser');
const { Connection, Client } = require('@temporalio/client');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');

const { startServer, installRuntime, pollUntil, uniqueName, makeTempDir, withTimeout } =
  require('../compat/harness');

const NS = 'default';
const UI_WAIT = 30000;

let server;
let ui;
let connection;
let client;
let nativeConnection;
let worker;
let workerRun;
let browserContext;
let page;
let userDataDir;
let artifacts;
const taskQueue = uniqueName('ui-actions-tq');
const apiFailures = []; // "<status> <method> <url>" of every failed /api/v1 call the browser made

async function screenshot(name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function open(route) {
  await page.goto(`${ui}${route}`, { waitUntil: 'load', timeout: UI_WAIT });
  await page.locator('#content').first().waitFor({ timeout: UI_WAIT });
}

// The visible modal whose Modal id is `id` (the page keeps hidden copies for small screens).
const modal = (id) => page.locator(`[aria-labelledby="modal-title-${id}"]:visible`);

// Waits for the browser's call matching `method` and `pathPart`, started by `action`; returns it.
async function apiCall(method, pathPart, action) {
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === method && r.url().includes('/api/v1/') &&
      decodeURIComponent(r.url()).includes(pathPart), { timeout: UI_WAIT }),
    action(),
  ]);
  assert.equal(res.status(), 200, `${method} ${res.url()}: ${res.status()} ${await res.text().catch(() => '')}`);
  return res;
}

function assertNoApiFailures() {
  assert.deepEqual(apiFailures.splice(0), [], 'the browser\'s API calls failed');
}

before(
  async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}: run scripts/deps.sh`);
    artifacts = fs.mkdtempSync(path.join(os.tmpdir(), 'temporalite-ui-actions-'));
    const { Runtime } = require('@temporalio/worker');
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
    } catch {
      // already installed in this process
    }
    installRuntime();
    const bundling = bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'workflows.js'), logger: new DefaultLogger('WARN') });
    bundling.catch(() => {});
    server = await startServer({ headless: false });
    ui = server.uiUrl();
    assert.ok(ui, `the server printed no UI line:\n${server.stdout()}`);
    ui = ui.replace(/\/$/, '');
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: NS });
    nativeConnection = await NativeConnection.connect({ address: server.address });
    worker = await Worker.create({ connection: nativeConnection, namespace: NS, taskQueue, workflowBundle: await bundling,
      activities: { async alwaysFails() { throw new Error('unused'); } } });
    workerRun = worker.run();

    userDataDir = makeTempDir('temporalite-ui-chromium-');
    ({ browserContext, page } = await launchBrowser(userDataDir, { uiWait: UI_WAIT, apiFailures }));
  },
  { timeout: 120000 },
);

after(
  async () => {
    await tearDown({ browserContext, worker, workerRun, nativeConnection, connection, server, userDataDir });
    if (artifacts) console.log(`# UI action screenshots: ${artifacts}`);
  },
  { timeout: 60000 },
);

// Opens a run's page and its actions menu, then picks `testId`.
async function runAction(workflowId, testId) {
  const { runId } = await client.workflow.getHandle(workflowId).describe();
  await open(`/namespaces/${NS}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`);
  await page.locator('#workflow-actions-menu-button:visible').click();
  await page.locator(`[data-testid="${testId}"]:visible`).click();
}

// Types JSON into the visible payload editor of `scope` (a code editor, contenteditable).
async function fillPayload(scope, json) {
  const editor = scope.locator('[contenteditable="true"]').first();
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await editor.fill(json);
}

test('a workflow started from the UI runs on the worker', async () => {
  const wid = uniqueName('ui-started');
  await open(`/namespaces/${NS}/workflows/start-workflow`);
  await page.locator('#workflowId').fill(wid);
  await page.locator('#taskQueue').fill(taskQueue);
  await page.locator('#workflowType').fill('uiGreet');
  await fillPayload(page.locator('#content'), '"UI starter"');
  await screenshot('11-start-workflow');
  await apiCall('POST', `/namespaces/${NS}/workflows/${wid}`, () =>
    page.locator('[data-testid="start-workflow-button"]:visible').click());
  const result = await withTimeout(client.workflow.getHandle(wid).result(), 30000, 'started workflow');
  assert.equal(result, 'Hello, UI starter!');
  assertNoApiFailures();
});

test('an update sent from the UI changes the workflow and shows its result', async () => {
  const h = await client.workflow.start('uiCart', { taskQueue, workflowId: uniqueName('ui-cart') });
  await pollUntil(async () => (await h.query('items')).length === 0, { timeoutMs: 20000, what: 'cart running' });
  await runAction(h.workflowId, 'update-button');
  const m = modal('update-confirmation-modal');
  await m.waitFor();
  await page.waitForTimeout(300); // the update names come from the worker's metadata query
  const select = m.locator('[data-testid="update-select-button"]');
  if (await select.count()) {
    await select.first().click();
    await page.locator('[role="option"]:visible', { hasText: 'addItem' }).first().click();
  } else {
    await m.locator('#update-name').fill('addItem');
  }
  await fillPayload(m, '"bananas"');
  await screenshot('12-update-modal');
  await apiCall('POST', `/workflows/${h.workflowId}/update/addItem`, () => m.locator('[data-testid="confirm-modal-button"]').click());
  assert.deepEqual(await h.query('items'), ['bananas']);
  await h.signal('finish');
  assert.deepEqual(await withTimeout(h.result(), 20000, 'cart result'), ['bananas']);
  assertNoApiFailures();
});

test('a cancel requested from the UI cancels the workflow', async () => {
  const h = await client.workflow.start('uiForever', { taskQueue, workflowId: uniqueName('ui-cancel') });
  const { runId } = await h.describe();
  await open(`/namespaces/${NS}/workflows/${h.workflowId}/${runId}/history`);
  await page.locator('#workflow-actions-primary-button:visible').click();
  const m = modal('cancel-confirmation-modal');
  await m.waitFor();
  await apiCall('POST', `/workflows/${h.workflowId}/cancel`, () => m.locator('[data-testid="confirm-modal-button"]').click());
  await pollUntil(async () => (await h.describe()).status.name === 'CANCELLED', { timeoutMs: 20000, what: 'workflow cancelled' });
  await page.getByText('Canceled').first().waitFor();
  await screenshot('13-cancelled');
  assertNoApiFailures();
});

test('a reset done in the UI starts a new run from the chosen event', async () => {
  const h = await client.workflow.start('uiGreet', { taskQueue, workflowId: uniqueName('ui-reset'), args: ['reset me'] });
  await withTimeout(h.result(), 20000, 'greet');
  const { runId } = await h.describe();
  await open(`/namespaces/${NS}/workflows/${h.workflowId}/${runId}/history`);
  // A closed run: Reset is the primary button of its actions menu.
  await page.locator('#workflow-actions-primary-button:visible', { hasText: 'Reset' }).click();
  const m = modal('reset-confirmation-modal');
  await m.waitFor();
  const select = m.locator('[data-testid="workflow-reset-event-id-select-button"]').first();
  await select.click();
  await page.locator('[role="option"]:visible').first().click();
  await m.locator('#reset-reason').fill('redo from the UI test');
  await screenshot('14-reset-modal');
  await apiCall('POST', `/workflows/${h.workflowId}/reset`, () => m.locator('[data-testid="confirm-modal-button"]').click());
  const latest = client.workflow.getHandle(h.workflowId);
  await pollUntil(async () => (await latest.describe()).runId !== runId, { timeoutMs: 20000, what: 'a new run' });
  assert.equal(await withTimeout(latest.result(), 20000, 'reset run'), 'Hello, reset me!');
  assertNoApiFailures();
});

// Opens the schedule's page and its actions menu, then picks `testId`.
async function scheduleAction(id, testId) {
  await open(`/namespaces/${NS}/schedules/${encodeURIComponent(id)}`);
  await page.locator('[data-testid="schedule-name"]').first().waitFor();
  await page.locator('#schedule-actions-menu-button:visible').click();
  await page.locator(`[data-testid="${testId}"]:visible`).click();
}

test('schedules: create, edit, pause, unpause, trigger, backfill and delete from the UI', async () => {
  const id = uniqueName('ui-sched');
  const wid = uniqueName('ui-sched-wf');
  const handle = client.schedule.getHandle(id);

  await open(`/namespaces/${NS}/schedules/create`);
  await page.locator('[data-testid="schedule-name-input"]').fill(id);
  await page.locator('[data-testid="schedule-type-input"]').fill('uiGreet');
  await page.locator('[data-testid="schedule-workflow-id-input"]').fill(wid);
  await page.locator('[data-testid="schedule-task-queue-input"]').fill(taskQueue);
  await page.locator('[data-testid="interval-tab"]').click();
  await page.locator('[data-testid="hour-interval-input"]').fill('6');
  await screenshot('15-schedule-create');
  await apiCall('POST', `/schedules/${id}`, () => page.locator('[data-testid="create-schedule-button"]').click());
  let d = await handle.describe();
  assert.equal(d.action.workflowType, 'uiGreet');
  assert.equal(d.action.taskQueue, taskQueue);
  assert.equal(d.spec.intervals[0].every, 6 * 3600 * 1000);

  // Edit: the interval becomes 1 hour (so the backfill below, the next hour, holds one time).
  await scheduleAction(id, 'edit-schedule');
  await page.waitForURL(/\/edit$/);
  await page.locator('[data-testid="interval-tab"]').click();
  await page.locator('[data-testid="hour-interval-input"]').fill('1');
  await apiCall('POST', `/schedules/${id}/update`, () => page.locator('[data-testid="create-schedule-button"]').click());
  d = await handle.describe();
  assert.equal(d.spec.intervals[0].every, 3600 * 1000);
  assert.equal(d.action.workflowType, 'uiGreet', 'the edit keeps the action');

  // Pause, then unpause (the primary button of the actions menu).
  for (const [paused, label] of [[true, 'Pause'], [false, 'Unpause']]) {
    await open(`/namespaces/${NS}/schedules/${encodeURIComponent(id)}`);
    await page.locator('#schedule-actions-primary-button:visible', { hasText: label }).click();
    const m = modal('pause-schedule-modal');
    await m.locator('#pause-reason').fill(`${label} from the UI test`);
    await apiCall('POST', `/schedules/${id}/patch`, () => m.locator('[data-testid="confirm-modal-button"]').click());
    d = await handle.describe();
    assert.equal(d.state.paused, paused, label);
    assert.equal(d.state.note, `${label} from the UI test`);
  }

  // Trigger: one run now.
  await scheduleAction(id, 'trigger-schedule');
  await apiCall('POST', `/schedules/${id}/patch`, () => modal('trigger-schedule-modal').locator('[data-testid="confirm-modal-button"]').click());
  await pollUntil(async () => (await handle.describe()).info.recentActions.length >= 1, { timeoutMs: 20000, what: 'triggered run' });
  await modal('trigger-schedule-modal').waitFor({ state: 'hidden' });
  await screenshot('16-schedule-triggered');
  // The triggered run ends before the backfill (the schedule's overlap policy skips while one runs).
  const triggered = (await handle.describe()).info.recentActions[0].action.workflow;
  await withTimeout(client.workflow.getHandle(triggered.workflowId, triggered.firstExecutionRunId).result(), 20000, 'triggered run');

  // Backfill: the modal's default range (the next hour) is sent and accepted.
  await scheduleAction(id, 'backfill-schedule');
  const bf = modal('backfill-schedule-modal');
  await bf.waitFor();
  await screenshot('17-schedule-backfill');
  // @temporalio/ui 2.38 compares the default range's hours as strings (`endHour < startHour`:
  // "10" < "9"), so from 09:00 to 09:59 UTC its default end is the next day, a 25-hour range. The
  // test then sends the range the UI means (one hour from the start), and checks what it sent.
  let body;
  const patchUrl = (url) => url.pathname.endsWith('/patch') && url.pathname.includes('/schedules/');
  await page.route(patchUrl, async (route) => {
    const b = JSON.parse(route.request().postData());
    const r = b.patch?.backfillRequest?.[0];
    const start = r ? Date.parse(r.startTime) : NaN;
    if (r && new Date(start).getUTCHours() === 9 && Date.parse(r.endTime) - start === 25 * 3600 * 1000) {
      r.endTime = new Date(start + 3600 * 1000).toISOString();
    }
    body = b;
    await route.continue({ postData: JSON.stringify(b) });
  });
  await apiCall('POST', `/schedules/${id}/patch`, () => bf.locator('[data-testid="confirm-modal-button"]').click());
  await page.unroute(patchUrl);
  assert.ok(body.patch.backfillRequest?.[0]?.startTime && body.patch.backfillRequest[0].endTime, JSON.stringify(body));
  // As Temporal's backfill: one run per schedule time in the range (whole hours here), started at
  // once (the range is in the future), named <workflow id>-<time>, with that time as its
  // TemporalScheduledStartTime.
  const from = Date.parse(body.patch.backfillRequest[0].startTime);
  const to = Date.parse(body.patch.backfillRequest[0].endTime);
  const hour = 3600 * 1000;
  const nominal = [];
  for (let t = Math.ceil(from / hour) * hour; t <= to; t += hour) nominal.push(t);
  assert.equal(nominal.length, 1, `one whole hour in ${body.patch.backfillRequest[0].startTime}..${body.patch.backfillRequest[0].endTime}`);
  for (const t of nominal) {
    const runId = `${wid}-${new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
    const run = client.workflow.getHandle(runId);
    const wd = await pollUntil(async () => run.describe().catch(() => null), { timeoutMs: 20000, what: `backfilled run ${runId}` });
    assert.equal(wd.type, 'uiGreet');
    assert.equal(wd.searchAttributes.TemporalScheduledStartTime[0].getTime(), t);
    assert.deepEqual(wd.searchAttributes.TemporalScheduledById, [id]);
    assert.ok(wd.startTime.getTime() < t, `started at once (${wd.startTime.toISOString()}), not at its schedule time`);
    await withTimeout(run.result(), 20000, 'backfilled run');
  }
  d = await handle.describe();
  assert.deepEqual(d.info.recentActions.slice(1).map((a) => a.scheduledAt.getTime()), nominal);

  // Delete.
  await scheduleAction(id, 'delete-schedule');
  await apiCall('DELETE', `/schedules/${id}`, () => modal('delete-schedule-modal').locator('[data-testid="confirm-modal-button"]').click());
  await assert.rejects(handle.describe(), /not found/i);
  await page.waitForURL(new RegExp(`/namespaces/${NS}/schedules$`));
  assertNoApiFailures();
});

test('batch terminate and batch cancel of the workflows a list query selects', async () => {
  for (const [action, testId, modalId, want] of [
    ['terminate', 'bulk-terminate-button', 'batch-terminate-confirmation-modal', 'TERMINATED'],
    ['cancel', 'bulk-cancel-button', 'batch-cancel-confirmation-modal', 'CANCELLED'],
  ]) {
    const prefix = uniqueName(`ui-batch-${action}`);
    const handles = [];
    for (let i = 0; i < 3; i++) {
      handles.push(await client.workflow.start('uiForever', { taskQueue, workflowId: `${prefix}-${i}` }));
    }
    const query = `WorkflowId STARTS_WITH "${prefix}"`;
    await open(`/namespaces/${NS}/workflows?query=${encodeURIComponent(query)}`);
    for (const h of handles) await page.getByText(h.workflowId, { exact: true }).first().waitFor();
    await page.locator('[data-testid="batch-actions-checkbox"]:visible').first().click();
    await page.locator(`[data-testid="${testId}"]:visible`).click();
    const m = modal(modalId);
    await m.waitFor();
    await screenshot(`18-batch-${action}`);
    await apiCall('POST', '/batch-operations/', () => m.locator('[data-testid="confirm-modal-button"]').click());
    for (const h of handles) {
      await pollUntil(async () => (await h.describe()).status.name === want, { timeoutMs: 30000, what: `${h.workflowId} ${want}` });
    }
  }
  assertNoApiFailures();
});

test('batch reset of the workflows selected in the list, to their last workflow task', async () => {
  const prefix = uniqueName('ui-batch-reset');
  const handles = [];
  for (let i = 0; i < 2; i++) {
    handles.push(await client.workflow.start('uiForever', { taskQueue, workflowId: `${prefix}-${i}` }));
  }
  // The reset point: each run's first workflow task has completed.
  for (const h of handles) {
    await pollUntil(async () => (await h.fetchHistory()).events.some((e) => e.workflowTaskCompletedEventAttributes),
      { timeoutMs: 20000, what: `${h.workflowId}'s first workflow task` });
  }
  const before = new Map();
  for (const h of handles) before.set(h.workflowId, (await h.describe()).runId);
  const query = `WorkflowId STARTS_WITH "${prefix}"`;
  await open(`/namespaces/${NS}/workflows?query=${encodeURIComponent(query)}`);
  for (const h of handles) await page.getByText(h.workflowId, { exact: true }).first().waitFor();
  await page.locator('[data-testid="batch-actions-checkbox"]:visible').first().click();
  await page.locator('[data-testid="bulk-reset-button"]:visible').click();
  const m = modal('batch-reset-confirmation-modal');
  await m.waitFor();
  await m.locator('#reset-event-last').check();
  await screenshot('19-batch-reset');
  const res = await apiCall('POST', '/batch-operations/', () => m.locator('[data-testid="confirm-modal-button"]').click());
  const body = JSON.parse(res.request().postData());
  assert.deepEqual(body.resetOperation.options, { lastWorkflowTask: {} }, res.request().postData());
  assert.deepEqual(body.executions.map((e) => e.workflowId).sort(), handles.map((h) => h.workflowId).sort());
  // Each workflow has a new run; the one reset was terminated by the reset.
  for (const h of handles) {
    const latest = client.workflow.getHandle(h.workflowId);
    await pollUntil(async () => (await latest.describe()).runId !== before.get(h.workflowId), { timeoutMs: 30000, what: `${h.workflowId} reset` });
    assert.equal((await latest.describe()).status.name, 'RUNNING');
    assert.equal((await client.workflow.getHandle(h.workflowId, before.get(h.workflowId)).describe()).status.name, 'TERMINATED');
  }
  // The job, as Temporal's batch page shows it: completed, two of two done.
  const d = await pollUntil(async () => {
    const x = await connection.workflowService.describeBatchOperation({ namespace: NS, jobId: body.jobId });
    return x.state === 2 /* COMPLETED */ ? x : null;
  }, { timeoutMs: 30000, what: 'batch job completed' });
  assert.equal(Number(d.completeOperationCount), 2);
  assert.equal(Number(d.failureOperationCount), 0);
  await open(`/namespaces/${NS}/batch-operations/${encodeURIComponent(body.jobId)}`);
  await page.getByText('Reset', { exact: true }).first().waitFor();
  await screenshot('20-batch-reset-job');
  for (const h of handles) await client.workflow.getHandle(h.workflowId).terminate('done');
  assertNoApiFailures();
});
