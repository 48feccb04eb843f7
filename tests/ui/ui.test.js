'use strict';
// The official Temporal Web UI, embedded in the temporalite binary and served on its UI port,
// driven in Debian's chromium (headless, through npm playwright-core; no browser download)
// against the real server with TypeScript SDK workers:
//   - the workflow list shows this test's workflows and the status counts;
//   - the query ExecutionStatus='Failed' finds the failed workflow, whose page shows the failure;
//   - a workflow's pending activity shows its attempt count and last failure;
//   - the history renders (table and timeline);
//   - a signal and a terminate done in the UI change the workflows (checked through the SDK);
//   - the schedules pages show a schedule made with the runbook phrase and its next runs.
// Screenshots of the main pages go to a temp directory whose path is printed.
//
// Run: tests/run-node-tests.sh tests/ui/ui.test.js   (env TEMPORALITE_CHROMIUM: the browser)

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');

const { CHROMIUM, launchBrowser, tearDown } = require('./browser');
const { Connection, Client } = require('@temporalio/client');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');

const { startServer, installRuntime, pollUntil, uniqueName, makeTempDir, serverBinary, withTimeout } =
  require('../compat/harness');

const NS = 'default';
const UI_WAIT = 30000; // generous: the machine running CI may be busy

let server;
let ui; // base URL of the UI port, e.g. http://127.0.0.1:41234
let connection;
let client;
let nativeConnection;
let worker;
let workerRun;
let browserContext;
let page;
let userDataDir;
let artifacts;
const taskQueue = uniqueName('ui-tq');
const ids = {};
const failedAttempts = new Map(); // activity key -> attempts seen by the activity

function cli(args) {
  return new Promise((resolve) => {
    execFile(serverBinary(), [...args, '--address', server.address], { timeout: 30000 }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code ?? 'error' : 0, stdout, stderr }),
    );
  });
}

async function screenshot(name) {
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Opens `route` of the UI and waits until the app has rendered its frame.
async function open(route) {
  await page.goto(`${ui}${route}`, { waitUntil: 'load', timeout: UI_WAIT });
  await page.locator('#content').first().waitFor({ timeout: UI_WAIT });
}

before(
  async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}: run scripts/deps.sh`);
    artifacts = fs.mkdtempSync(path.join(os.tmpdir(), 'temporalite-ui-artifacts-'));
    console.log(`# UI screenshots: ${artifacts}`);
    // The activity fails on purpose every second: keep the SDK's warnings out of the output.
    const { Runtime } = require('@temporalio/worker');
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
    } catch {
      // already installed in this process
    }
    installRuntime();
    const bundling = bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'workflows.js'),
      logger: new DefaultLogger('WARN'),
    });
    bundling.catch(() => {});
    server = await startServer({ headless: false });
    ui = server.uiUrl();
    assert.ok(ui, `the server printed no UI line:\n${server.stdout()}`);
    ui = ui.replace(/\/$/, '');
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: NS });
    nativeConnection = await NativeConnection.connect({ address: server.address });
    worker = await Worker.create({
      connection: nativeConnection,
      namespace: NS,
      taskQueue,
      workflowBundle: await bundling,
      activities: {
        async alwaysFails(key) {
          const n = (failedAttempts.get(key) ?? 0) + 1;
          failedAttempts.set(key, n);
          throw new Error(`warehouse ${key} unreachable (attempt ${n})`);
        },
      },
    });
    workerRun = worker.run();

    const start = (type, prefix, args = []) =>
      client.workflow.start(type, { taskQueue, workflowId: uniqueName(prefix), args });
    const greets = [];
    for (let i = 0; i < 3; i++) greets.push(await start('uiGreet', 'ui-greet', [`shopper ${i}`]));
    const failed = await start('uiFail', 'ui-failed', ['out of stock']);
    const approval = await start('uiAwaitApproval', 'ui-approval');
    const retrying = await start('uiRetrying', 'ui-retrying', ['jhb-1']);
    const forever = await start('uiForever', 'ui-forever');
    for (const g of greets) await withTimeout(g.result(), 30000, 'greet workflow');
    await assert.rejects(withTimeout(failed.result(), 30000, 'failing workflow'));
    Object.assign(ids, {
      greets: greets.map((g) => g.workflowId),
      failed: failed.workflowId,
      approval: approval.workflowId,
      retrying: retrying.workflowId,
      forever: forever.workflowId,
    });
    // The retrying activity has failed at least twice before the pages look at it.
    await pollUntil(
      async () => ((await retrying.describe()).raw.pendingActivities?.[0]?.attempt ?? 0) >= 3,
      { timeoutMs: 30000, what: 'activity attempt 3' },
    );

    // The runbook's schedule, made with the CLI.
    ids.schedule = uniqueName('checkers-hourly');
    const created = await cli([
      'schedule', 'create', ids.schedule, '--workflow', 'CheckersIngestionWorkflow', '--task-queue',
      'checkers-ingestion', '--schedule', 'every 2h between 06:00-22:00 Africa/Johannesburg',
    ]);
    assert.equal(created.code, 0, created.stderr);

    userDataDir = makeTempDir('temporalite-ui-chromium-');
    ({ browserContext, page } = await launchBrowser(userDataDir, { uiWait: UI_WAIT }));
  },
  { timeout: 120000 },
);

after(
  async () => {
    await tearDown({ browserContext, worker, workerRun, nativeConnection, connection, server, userDataDir });
    if (artifacts) console.log(`# UI screenshots: ${artifacts}`);
  },
  { timeout: 60000 },
);

test('the UI port serves the app shell and its assets', async () => {
  const res = await fetch(`${ui}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  const html = await res.text();
  const asset = /(\/_app\/immutable\/[^"]+\.js)/.exec(html);
  assert.ok(asset, 'index.html references the built scripts');
  const js = await fetch(`${ui}${asset[1]}`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /javascript/);
  assert.match(js.headers.get('cache-control') ?? '', /immutable|max-age/);
  // A deep link (single-page app) gets the same shell.
  const deep = await fetch(`${ui}/namespaces/${NS}/workflows/some-id/some-run/history`);
  assert.equal(deep.status, 200);
  assert.equal(await deep.text(), html);
});

test('the workflow list shows this test\'s workflows and the status counts', async () => {
  await open(`/namespaces/${NS}/workflows`);
  for (const id of [...ids.greets, ids.failed, ids.approval, ids.retrying, ids.forever]) {
    await page.getByText(id, { exact: true }).first().waitFor();
  }
  // The counts come from workflow-count?query=GROUP BY ExecutionStatus: this server's namespace
  // holds only this test's workflows.
  await page.getByText(/\b3\s*Completed/).first().waitFor();
  const body = await page.locator('#content').first().innerText();
  assert.match(body, /\b3\s*Running/, 'status count of running workflows');
  assert.match(body, /\b3\s*Completed/, 'status count of completed workflows');
  assert.match(body, /\b1\s*Failed/, 'status count of failed workflows');
  await screenshot('01-workflows');
});

test('the query ExecutionStatus=\'Failed\' finds the failed workflow; its page shows the failure', async () => {
  const query = "ExecutionStatus='Failed'";
  const listed = page.waitForResponse(
    (r) => r.url().includes('/api/v1/namespaces/default/workflows?') && decodeURIComponent(r.url()).includes(query),
  );
  await open(`/namespaces/${NS}/workflows?query=${encodeURIComponent(query)}`);
  assert.equal((await listed).status(), 200);
  await page.getByText(ids.failed, { exact: true }).first().waitFor();
  for (const id of [...ids.greets, ids.approval]) {
    assert.equal(await page.getByText(id, { exact: true }).count(), 0, `${id} is not Failed`);
  }
  await screenshot('02-workflows-failed-query');

  await page.getByText(ids.failed, { exact: true }).first().click();
  await page.waitForURL(/\/history/);
  await page.getByText('order rejected: out of stock').first().waitFor();
  await page.getByText(/Failed/).first().waitFor();
  await screenshot('03-failed-workflow');
});

test('the history renders its events', async () => {
  const handle = client.workflow.getHandle(ids.greets[0]);
  const { runId } = await handle.describe();
  await open(`/namespaces/${NS}/workflows/${ids.greets[0]}/${runId}/history`);
  for (const ev of ['Workflow Execution Started', 'Workflow Task Completed', 'Workflow Execution Completed']) {
    await page.getByText(ev).first().waitFor();
  }
  await page.getByText('Hello, shopper 0!').first().waitFor();
  await screenshot('04-history');
});

test('a pending activity shows its attempt count and last failure', async () => {
  const handle = client.workflow.getHandle(ids.retrying);
  const { runId } = await handle.describe();
  await open(`/namespaces/${NS}/workflows/${ids.retrying}/${runId}/pending-activities`);
  await page.getByText('alwaysFails').first().waitFor();
  const text = await page.locator('#content').first().innerText();
  // The last failure is in a code view (its text may be laid out off screen).
  const all = await page.locator('#content').first().textContent();
  assert.match(all, /warehouse jhb-1 unreachable \(attempt \d+\)/, 'the last failure message');
  const m = /Attempt\s*(\d+)/i.exec(text);
  assert.ok(m, `no attempt count on the page:\n${text}`);
  assert.ok(Number(m[1]) >= 3, `attempt ${m[1]} shown; the activity has failed ${failedAttempts.get('jhb-1')} times`);
  assert.match(text, /Last Failure/i);
  await screenshot('05-pending-activities');
});

// Opens the run's actions menu (next to "Request Cancellation") and picks `testId`.
async function runAction(workflowId, testId) {
  const { runId } = await client.workflow.getHandle(workflowId).describe();
  await open(`/namespaces/${NS}/workflows/${workflowId}/${runId}/history`);
  // The page has a hidden copy of the menu for small screens: take the visible one.
  await page.locator('#workflow-actions-menu-button:visible').click();
  await page.locator(`[data-testid="${testId}"]:visible`).click();
}

test('a signal sent from the UI reaches the workflow', async () => {
  await runAction(ids.approval, 'signal-button');
  const modal = page.locator('[data-testid="signal-confirmation-modal"]:visible');
  await modal.waitFor();
  // With a worker running, the UI lists the workflow's signals (the SDK's metadata query);
  // otherwise it asks for a name.
  await page.waitForTimeout(500);
  const select = modal.locator('[data-testid="signal-select-button"]:visible');
  if (await select.count()) {
    await select.first().click();
    await page.locator('[role="option"]:visible', { hasText: 'approve' }).first().click();
  } else {
    await modal.locator('#signal-name').fill('approve');
  }
  await modal.locator('[contenteditable="true"]').first().fill('"ops on call"');
  await screenshot('06-signal-modal');
  await modal.getByRole('button', { name: 'Submit' }).click();
  const result = await withTimeout(client.workflow.getHandle(ids.approval).result(), 30000, 'signalled workflow');
  assert.equal(result, 'approved by ops on call');
});

test('a terminate done in the UI terminates the workflow', async () => {
  await runAction(ids.forever, 'terminate-button');
  const modal = page.locator('[data-testid="terminate-confirmation-modal"]:visible');
  await modal.waitFor();
  await modal.locator('input, textarea').first().fill('stuck (terminated from the UI test)');
  await modal.getByRole('button', { name: 'Terminate' }).click();
  const handle = client.workflow.getHandle(ids.forever);
  await pollUntil(async () => (await handle.describe()).status.name === 'TERMINATED', {
    timeoutMs: 20000,
    what: 'workflow terminated',
  });
  await page.getByText('Terminated').first().waitFor();
  await screenshot('07-terminated');
});

test('the schedules pages show the runbook schedule and its next runs', async () => {
  await open(`/namespaces/${NS}/schedules`);
  await page.getByText(ids.schedule, { exact: true }).first().waitFor();
  await screenshot('08-schedules');
  await page.getByText(ids.schedule, { exact: true }).first().click();
  await page.waitForURL(new RegExp(`/schedules/${ids.schedule}$`));
  await page.getByText('Upcoming Runs').first().waitFor();
  // The next runs the server computed for "every 2h between 06:00-22:00 Africa/Johannesburg".
  const desc = JSON.parse((await cli(['schedule', 'describe', '-s', ids.schedule, '-o', 'json'])).stdout);
  const next = desc.info.futureActionTimes;
  assert.ok(next.length >= 2, JSON.stringify(desc.info));
  const text = await page.locator('#content').first().innerText();
  assert.match(text, /CheckersIngestionWorkflow/);
  assert.match(text, /Africa\/Johannesburg/);
  // Shown in UTC (the browser's zone here): 06:00 SAST is 04:00 UTC.
  for (const t of next.slice(0, 3)) {
    const iso = new Date(t).toISOString();
    assert.ok(text.includes(`${iso.slice(0, 10)} UTC ${iso.slice(11, 19)}`), `next run ${iso} is listed:\n${text}`);
  }
  await screenshot('09-schedule');
});

test('the task queue page lists the test worker', async () => {
  await open(`/namespaces/${NS}/task-queues/${taskQueue}`);
  await page.getByText(taskQueue).first().waitFor();
  await page.getByText(/Workflow|Activity/).first().waitFor();
  await screenshot('10-task-queue');
});
