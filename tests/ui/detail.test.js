'use strict';
// The Web UI's read-only workflow pages beyond tests/ui/ui.test.js, driven in Debian's chromium
// (playwright-core) against the real server with a TypeScript SDK worker; every /api/v1 call the
// browser makes must succeed:
//   - the namespaces page lists the namespace;
//   - a workflow's summary shows its input and result;
//   - the relationships page of a parent shows its child;
//   - the call stack page shows a running workflow's stack (the __stack_trace query);
//   - the query page runs a workflow's query and shows its result;
//   - an open history page updates live when the run changes (the waitNewEvent long poll);
//   - a run's workers tab, the batch operations list, the timeline of a run's event groups;
//   - a history longer than a server page renders to its end (the UI pages with nextPageToken),
//     and the history download button saves all its events as JSON (`{"events": [...]}`).
//
// Run: tests/run-node-tests.sh tests/ui/detail.test.js   (env TEMPORALITE_CHROMIUM: the browser)

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { CHROMIUM, launchBrowser, tearDown } = require('./browser');
const { Connection, Client } = require('@temporalio/client');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');

const { startServer, installRuntime, uniqueName, makeTempDir, withTimeout } = require('../compat/harness');

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
const taskQueue = uniqueName('ui-detail-tq');
const ids = {};
const apiFailures = [];

async function screenshot(name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function open(route) {
  await page.goto(`${ui}${route}`, { waitUntil: 'load', timeout: UI_WAIT });
  await page.locator('#content').first().waitFor({ timeout: UI_WAIT });
}

async function runPage(workflowId, tab) {
  const { runId } = await client.workflow.getHandle(workflowId).describe();
  await open(`/namespaces/${NS}/workflows/${encodeURIComponent(workflowId)}/${runId}/${tab}`);
  return runId;
}

function assertNoApiFailures() {
  assert.deepEqual(apiFailures.splice(0), [], 'the browser\'s API calls failed');
}

before(
  async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}: run scripts/deps.sh`);
    artifacts = fs.mkdtempSync(path.join(os.tmpdir(), 'temporalite-ui-detail-'));
    installRuntime();
    const bundle = await bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'workflows.js'),
      logger: new DefaultLogger('WARN'),
    });
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
      workflowBundle: bundle,
      activities: { async alwaysFails() { throw new Error('unused'); } },
    });
    workerRun = worker.run();

    const greet = await client.workflow.start('uiGreet', { taskQueue, workflowId: uniqueName('ui-d-greet'), args: ['detail page'] });
    const parent = await client.workflow.start('uiParent', { taskQueue, workflowId: uniqueName('ui-d-parent'), args: ['kid'] });
    const cart = await client.workflow.start('uiCart', { taskQueue, workflowId: uniqueName('ui-d-cart') });
    const many = await client.workflow.start('uiManyTimers', { taskQueue, workflowId: uniqueName('ui-d-many'), args: [60] });
    await withTimeout(greet.result(), 30000, 'greet');
    assert.equal(await withTimeout(many.result(), 60000, 'timers'), 'slept 60 times');
    assert.equal(await withTimeout(parent.result(), 30000, 'parent'), 'parent of: Hello, kid!');
    await cart.executeUpdate('addItem', { args: ['apples'] });
    Object.assign(ids, { greet: greet.workflowId, parent: parent.workflowId, cart: cart.workflowId, many: many.workflowId });

    userDataDir = makeTempDir('temporalite-ui-detail-chromium-');
    ({ browserContext, page } = await launchBrowser(userDataDir, { uiWait: UI_WAIT, acceptDownloads: true, apiFailures }));
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

test('the namespaces page lists the namespace', async () => {
  await open('/namespaces');
  await page.locator('[data-testid="namespace-selector-title"]').first().waitFor();
  await page.locator('#content').getByText(NS, { exact: true }).first().waitFor();
  assertNoApiFailures();
});

test('a workflow\'s summary shows its input and result', async () => {
  await runPage(ids.greet, 'history');
  await page.getByText('Hello, detail page!').first().waitFor();
  const all = await page.locator('#content').first().textContent();
  // The input as JSON (the result, "Hello, detail page!", does not hold it with its quotes).
  assert.match(all, /"detail page"/, 'the input');
  await screenshot('01-summary');
  assertNoApiFailures();
});

test('the relationships page of a parent shows its child', async () => {
  await runPage(ids.parent, 'relationships');
  await page.getByText(`${ids.parent}-child`).first().waitFor();
  await screenshot('02-relationships');
  assertNoApiFailures();
});

test('the call stack page shows a running workflow\'s stack', async () => {
  await runPage(ids.cart, 'call-stack');
  // The TypeScript SDK's __stack_trace: the workflow waits in condition() inside uiCart.
  await page.getByText(/uiCart/).first().waitFor();
  await screenshot('03-call-stack');
  assertNoApiFailures();
});

test('the query page runs a workflow\'s query and shows its result', async () => {
  await runPage(ids.cart, 'query');
  const run = page.getByRole('button', { name: /Run Query|Refresh Query/ }).first();
  await run.waitFor();
  const answered = page.waitForResponse((r) => r.url().includes(`/query/items`) && r.request().method() === 'POST');
  await run.click();
  assert.equal((await answered).status(), 200);
  await page.getByText('apples').first().waitFor();
  await screenshot('04-query');
  assertNoApiFailures();
});

test('an open history page shows new events as they happen (no reload)', async () => {
  await runPage(ids.cart, 'history');
  await page.getByText('Workflow Execution Update Completed').first().waitFor();
  assert.equal(await page.getByText('Workflow Execution Completed', { exact: true }).count(), 0);
  await client.workflow.getHandle(ids.cart).signal('finish');
  assert.deepEqual(await withTimeout(client.workflow.getHandle(ids.cart).result(), 20000, 'cart'), ['apples']);
  // The page learns of the new events through its history long poll.
  await page.getByText('Workflow Execution Completed', { exact: true }).first().waitFor({ timeout: 30000 });
  await screenshot('05-live-history');
  assertNoApiFailures();
});

test('a history longer than a server page renders to its end, and the download button saves all of its events as JSON', async () => {
  // About 300 events: the UI reads them in several pages (nextPageToken) of the server's 256.
  const runId = await runPage(ids.many, 'history');
  await page.getByText('Workflow Execution Completed', { exact: true }).first().waitFor();
  await page.locator('[data-testid="download"]:visible').first().click();
  const saved = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download', exact: true }).last().click();
  const download = await saved;
  // The UI saves {"events": [...]} (what `temporal workflow show -o json` prints).
  const { events } = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.ok(Array.isArray(events), 'a JSON object with the events');
  const history = await client.workflow.getHandle(ids.many, runId).fetchHistory();
  assert.ok(history.events.length > 256, `${history.events.length} events`);
  assert.equal(events.length, history.events.length);
  assert.deepEqual(events.map((e) => String(e.eventId)), history.events.map((e) => String(e.eventId)));
  assert.equal(events[0].eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
  assertNoApiFailures();
});

test('a run\'s workers tab lists the worker polling its task queue', async () => {
  await runPage(ids.greet, 'workers');
  await page.getByText(taskQueue).first().waitFor();
  // The TypeScript SDK's default identity: <pid>@<host>.
  await page.getByText(new RegExp(`^${process.pid}@`)).first().waitFor();
  await screenshot('07-workers');
  assertNoApiFailures();
});

test('the batch operations page lists a batch job', async () => {
  const jobId = uniqueName('ui-d-batch');
  await client.workflowService.startBatchOperation({
    namespace: NS,
    jobId,
    reason: 'UI list test',
    visibilityQuery: `WorkflowId = '${uniqueName('nothing-matches')}'`,
    terminationOperation: { identity: 'ui-test' },
  });
  await open(`/namespaces/${NS}/batch-operations`);
  await page.getByText(jobId).first().waitFor();
  await screenshot('08-batch-operations');
  assertNoApiFailures();
});

test('the timeline above a run\'s history draws its event groups (the child workflow of a parent)', async () => {
  await runPage(ids.parent, 'history');
  // An SVG row per event group, labelled with the group's name.
  await page.locator('svg text', { hasText: 'uiGreet' }).first().waitFor();
  await screenshot('09-timeline');
  assertNoApiFailures();
});
