'use strict';
// The `temporalite` client commands (issue 5) against the real server binary: workflow start, describe, execute, result,
// signal, show, cancel and terminate (runs of the workflows in ./workflows).
// The CLI is the same binary, run with child_process.execFile; stdout, stderr and the exit code
// are checked for text and `-o json` output (shared setup and helpers: cli-harness.js).
//
// Run: tests/run-node-tests.sh tests/cli/cli-workflow.test.js

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Worker } = require('@temporalio/worker');
const {
  TASK_QUEUE, INPUT, state, useCliServer, cli, tl, ok, okJson,
  startWorkflow, describeJson, unb64, sdkHistoryFromJson, pollUntil, uniqueName,
} = require('./cli-harness');

useCliServer();

// ---- workflow start / describe ---------------------------------------------------------------

test('workflow start --type ... --input prints the running execution; describe shows it (text and JSON)', async () => {
  const id = uniqueName('checkers');
  const out = await ok([
    'workflow', 'start',
    '--type', 'CheckersIngestionWorkflow',
    '--task-queue', TASK_QUEUE,
    '--workflow-id', id,
    '--input', INPUT,
  ]);
  assert.match(out, /^Running execution:$/m);
  assert.match(out, new RegExp(`^  WorkflowId +${id}$`, 'm'));
  assert.match(out, /^ {2}RunId +[0-9a-f-]{36}$/m);
  assert.match(out, /^ {2}Type +CheckersIngestionWorkflow$/m);
  assert.match(out, /^ {2}Namespace +default$/m);
  assert.match(out, new RegExp(`^  TaskQueue +${TASK_QUEUE}$`, 'm'));
  const runId = /RunId +(\S+)/.exec(out)[1];

  // The input went over the wire as one json/plain payload holding exactly the given JSON.
  const history = await okJson(['workflow', 'show', '--workflow-id', id]);
  const started = history.events[0];
  assert.equal(started.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
  const payloads = started.workflowExecutionStartedEventAttributes.input.payloads;
  assert.equal(payloads.length, 1);
  assert.equal(unb64(payloads[0].metadata.encoding), 'json/plain');
  assert.deepEqual(JSON.parse(unb64(payloads[0].data)), { storeId: 'sixty60-jhb', forceRefresh: true });

  await ok(['workflow', 'result', '--workflow-id', id]);
  const text = await ok(['workflow', 'describe', '-w', id]);
  assert.match(text, /^Execution Info:$/m);
  assert.match(text, new RegExp(`^  WorkflowId +${id}$`, 'm'));
  assert.match(text, new RegExp(`^  RunId +${runId}$`, 'm'));
  assert.match(text, /^ {2}Type +CheckersIngestionWorkflow$/m);
  assert.match(text, /^ {2}Status +Completed$/m);
  assert.match(text, /^ {2}StartTime +(now|\d+ seconds? ago)$/m);
  assert.match(text, /^Results:$/m);
  assert.match(text, /^ {2}Status +COMPLETED$/m);
  assert.match(text, /^ {2}Result +\{"storeId":"sixty60-jhb","forceRefresh":true,"items":3\}$/m);
  assert.match(text, /^ {2}ResultEncoding +json\/plain$/m);

  const json = await describeJson(id);
  assert.equal(json.workflowExecutionInfo.execution.workflowId, id);
  assert.equal(json.workflowExecutionInfo.execution.runId, runId);
  assert.equal(json.workflowExecutionInfo.type.name, 'CheckersIngestionWorkflow');
  assert.equal(json.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_COMPLETED');
  assert.equal(json.workflowExecutionInfo.taskQueue, TASK_QUEUE);
  assert.equal(json.closeEvent.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
  assert.deepEqual(json.result, { storeId: 'sixty60-jhb', forceRefresh: true, items: 3 });
});

test('workflow start accepts --workflow as an alias of --type (the runbook form)', async () => {
  const id = uniqueName('runbook');
  const out = await ok([
    'workflow', 'start',
    '--workflow', 'CheckersIngestionWorkflow',
    '--task-queue', TASK_QUEUE,
    '--workflow-id', id,
    '--input', INPUT,
  ]);
  assert.match(out, /^ {2}Type +CheckersIngestionWorkflow$/m);
  const json = await describeJson(id);
  assert.equal(json.workflowExecutionInfo.type.name, 'CheckersIngestionWorkflow');
});

test('workflow start -o json prints the execution as JSON', async () => {
  const id = uniqueName('json-start');
  const json = await okJson(['workflow', 'start', '--type', 'sleeper', '-t', TASK_QUEUE, '-w', id]);
  assert.equal(json.workflowId, id);
  assert.match(json.runId, /^[0-9a-f-]{36}$/);
  assert.equal(json.type, 'sleeper');
  assert.equal(json.namespace, 'default');
  assert.equal(json.taskQueue, TASK_QUEUE);
  await ok(['workflow', 'terminate', '-w', id]);
});

test('workflow start of a running workflow id returns it; --fail-existing makes it an error', async () => {
  const id = await startWorkflow('sleeper');
  const first = (await describeJson(id)).workflowExecutionInfo.execution.runId;
  const again = await tl(['workflow', 'start', '--type', 'sleeper', '-t', TASK_QUEUE, '-w', id]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`RunId +${first}`));
  assert.match(again.stderr, /already running/);
  const fail = await tl(['workflow', 'start', '--type', 'sleeper', '-t', TASK_QUEUE, '-w', id, '--fail-existing']);
  assert.equal(fail.code, 1);
  assert.match(fail.stderr, /^Error: failed starting workflow: .*\(ALREADY_EXISTS\)$/m);
  await ok(['workflow', 'terminate', '-w', id]);
});

test('invalid --input JSON is a usage error (exit 2) and nothing is started', async () => {
  const r = await tl(['workflow', 'start', '--type', 'sleeper', '-t', TASK_QUEUE, '--input', '{"storeId":']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^Error: input #1 is not valid JSON/m);
  assert.equal(r.stdout, '');
});

test('a duration beyond int64 nanoseconds is a usage error (exit 2), not a wrapped negative one', async () => {
  // Found by the cli_input fuzzer: 99999999999999999999h overflowed llround (INT64_MIN), and
  // printing that duration negated INT64_MIN (undefined behaviour).
  const ns = uniqueName('ns-huge-retention');
  const r = await tl(['operator', 'namespace', 'create', '--namespace', ns, '--retention', '99999999999999999999h']);
  assert.equal(r.code, 2, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.match(r.stderr, /^Error: invalid duration "99999999999999999999h" for --retention \(out of range/m);
  const d = await tl(['operator', 'namespace', 'describe', '--namespace', ns]);
  assert.notEqual(d.code, 0, 'the namespace must not have been created');
});

test('a missing required flag is a usage error naming the flag', async () => {
  const r = await tl(['workflow', 'start', '--type', 'sleeper']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--task-queue/);
});

// ---- execute / result ------------------------------------------------------------------------

test('workflow execute follows the run and prints the result', async () => {
  const id = uniqueName('execute');
  const out = await ok([
    'workflow', 'execute',
    '--type', 'CheckersIngestionWorkflow',
    '--task-queue', TASK_QUEUE,
    '--workflow-id', id,
    '--input', INPUT,
  ]);
  assert.match(out, /^Running execution:$/m);
  assert.match(out, /^Progress:$/m);
  assert.match(out, /^ +1 +\S+ +WorkflowExecutionStarted$/m);
  assert.match(out, /ActivityTaskCompleted/);
  assert.match(out, /WorkflowExecutionCompleted$/m);
  assert.match(out, /^Results:$/m);
  assert.match(out, /^ {2}RunTime +\S+$/m);
  assert.match(out, /^ {2}Status +COMPLETED$/m);
  assert.match(out, /^ {2}Result +\{"storeId":"sixty60-jhb","forceRefresh":true,"items":3\}$/m);
});

test('workflow execute -o json prints one result object', async () => {
  const id = uniqueName('execute-json');
  const json = await okJson(['workflow', 'execute', '--type', 'CheckersIngestionWorkflow', '-t', TASK_QUEUE, '-w', id, '-i', INPUT]);
  assert.equal(json.workflowId, id);
  assert.equal(json.status, 'COMPLETED');
  assert.equal(json.type, 'CheckersIngestionWorkflow');
  assert.equal(json.taskQueue, TASK_QUEUE);
  assert.deepEqual(json.result, { storeId: 'sixty60-jhb', forceRefresh: true, items: 3 });
  assert.equal(json.closeEvent.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
});

test('workflow execute of a failing workflow prints the failure and exits 1', async () => {
  const r = await tl(['workflow', 'execute', '--type', 'failingIngestion', '-t', TASK_QUEUE, '-i', '"store offline"']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^ {2}Status +FAILED$/m);
  assert.match(r.stdout, /Message: store offline/);
  assert.match(r.stderr, /^Error: workflow failed$/m);
});

test('workflow result waits for and prints the result (text and JSON)', async () => {
  const id = await startWorkflow('CheckersIngestionWorkflow', ['--input', INPUT]);
  const text = await ok(['workflow', 'result', '--workflow-id', id]);
  assert.match(text, /^Results:$/m);
  assert.match(text, /^ {2}Status +COMPLETED$/m);
  assert.match(text, /"storeId":"sixty60-jhb"/);
  const json = await okJson(['workflow', 'result', '--workflow-id', id]);
  assert.equal(json.status, 'COMPLETED');
  assert.deepEqual(json.result, { storeId: 'sixty60-jhb', forceRefresh: true, items: 3 });
  // Without --run-id the result names the run it reports.
  const desc = await okJson(['workflow', 'describe', '--workflow-id', id]);
  assert.match(json.runId, /^[0-9a-f-]{36}$/);
  assert.equal(json.runId, desc.workflowExecutionInfo.execution.runId);
});

// ---- signal / cancel / terminate -------------------------------------------------------------

test('workflow signal delivers the signal input', async () => {
  const id = await startWorkflow('waitForApproval');
  const out = await ok(['workflow', 'signal', '--workflow-id', id, '--name', 'approve', '--input', '"ops-oncall"']);
  assert.match(out, /^Signal workflow succeeded$/m);
  const json = await okJson(['workflow', 'result', '-w', id]);
  assert.deepEqual(json.result, { approvedBy: 'ops-oncall' });
});

test('workflow show --follow streams events until the run closes', async () => {
  const id = await startWorkflow('waitForApproval');
  const following = tl(['workflow', 'show', '-w', id, '--follow']);
  await new Promise((r) => setTimeout(r, 500));
  await ok(['workflow', 'signal', '-w', id, '--name', 'approve', '--input', '"follower"']);
  const r = await following;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /WorkflowExecutionSignaled/);
  assert.match(r.stdout, /WorkflowExecutionCompleted$/m);
  assert.match(r.stdout, /^ {2}Result +\{"approvedBy":"follower"\}$/m);
});

test('workflow cancel requests cancellation; the run ends CANCELED', async () => {
  const id = await startWorkflow('sleeper');
  const out = await ok(['workflow', 'cancel', '--workflow-id', id]);
  assert.match(out, /^Canceled workflow$/m);
  const r = await tl(['workflow', 'result', '-w', id]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^ {2}Status +CANCELED$/m);
  assert.match(r.stderr, /^Error: workflow canceled$/m);
  const json = await describeJson(id);
  assert.equal(json.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_CANCELED');
});

test('workflow terminate --reason records the reason', async () => {
  const id = await startWorkflow('sleeper');
  const out = await ok(['workflow', 'terminate', '--workflow-id', id, '--reason', 'bad price data']);
  assert.match(out, /^Workflow terminated$/m);
  const text = await ok(['workflow', 'describe', '-w', id]);
  assert.match(text, /^ {2}Status +Terminated$/m);
  assert.match(text, /^ {2}Reason +bad price data$/m);
  const json = await describeJson(id);
  assert.equal(json.closeEvent.workflowExecutionTerminatedEventAttributes.reason, 'bad price data');
});

test('workflow terminate of an unknown workflow fails with NOT_FOUND', async () => {
  const r = await tl(['workflow', 'terminate', '-w', uniqueName('nope')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Error: failed to terminate workflow: .*\(NOT_FOUND\)$/m);
});

// ---- show ------------------------------------------------------------------------------------

test('workflow show prints the event table, --detailed sections, and -o json replays in the SDK', async () => {
  const id = await startWorkflow('CheckersIngestionWorkflow', ['--input', INPUT]);
  await ok(['workflow', 'result', '-w', id]);

  const text = await ok(['workflow', 'show', '--workflow-id', id]);
  assert.match(text, /^Progress:$/m);
  assert.match(text, /^ +ID {2}Time {18}Type$/m);
  const rows = text.split('\n').filter((l) => /^ +\d+ {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}\w+$/.test(l));
  const types = rows.map((l) => l.trim().split(/\s+/)[2]);
  assert.deepEqual(types.slice(0, 4), [
    'WorkflowExecutionStarted',
    'WorkflowTaskScheduled',
    'WorkflowTaskStarted',
    'WorkflowTaskCompleted',
  ]);
  assert.ok(types.includes('ActivityTaskScheduled'));
  assert.equal(types[types.length - 1], 'WorkflowExecutionCompleted');
  assert.match(text, /^ {2}Status +COMPLETED$/m);

  const detailed = await ok(['workflow', 'show', '-w', id, '--detailed']);
  assert.match(detailed, /^-{15} \[1\] WorkflowExecutionStarted -{15}$/m);
  assert.match(detailed, /^input\.payloads\[0\]\.storeId: sixty60-jhb$/m);
  assert.match(detailed, /^workflowType\.name: CheckersIngestionWorkflow$/m);

  const history = await okJson(['workflow', 'show', '-w', id]);
  assert.equal(history.events.length, rows.length);
  assert.equal(history.events[0].eventId, '1');
  assert.equal(history.events.at(-1).eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
  // The official SDK accepts the JSON as a history and replays the workflow against it.
  const parsed = sdkHistoryFromJson(history);
  assert.equal(parsed.events.length, history.events.length);
  await Worker.runReplayHistory({ workflowBundle: state.workflowBundle, replayName: 'cli-show' }, parsed, id);
});

// ---- describe: failures and pending activities ----------------------------------------------

test('workflow describe of a FAILED run shows the failure', async () => {
  const id = await startWorkflow('failingIngestion', ['--input', '"sixty60 catalogue returned 0 items"']);
  const r = await tl(['workflow', 'result', '-w', id]);
  assert.equal(r.code, 1);
  const text = await ok(['workflow', 'describe', '-w', id]);
  assert.match(text, /^ {2}Status +Failed$/m);
  assert.match(text, /^ {2}Status +FAILED$/m);
  assert.match(text, /Message: sixty60 catalogue returned 0 items/);
  assert.match(text, /Type: IngestionError/);
  const json = await describeJson(id);
  assert.equal(json.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_FAILED');
  const failure = json.closeEvent.workflowExecutionFailedEventAttributes.failure;
  assert.equal(failure.message, 'sixty60 catalogue returned 0 items');
  assert.equal(failure.applicationFailureInfo.type, 'IngestionError');
});

test('workflow describe shows pending activities with attempts and the last failure', async () => {
  const id = await startWorkflow('flakyIngestion');
  const text = await pollUntil(
    async () => {
      const out = await ok(['workflow', 'describe', '-w', id]);
      const m = /^ {2}Attempt +(\d+)$/m.exec(out);
      return m && Number(m[1]) >= 2 && /LastFailure/.test(out) ? out : null;
    },
    { timeoutMs: 15000, intervalMs: 200, what: 'pending activity with attempt >= 2' },
  );
  assert.match(text, /^Pending Activities: 1$/m);
  assert.match(text, /^ {2}Type +alwaysFails$/m);
  assert.match(text, /^ {2}LastFailure +upstream 503 from sixty60/m);
  const json = await describeJson(id);
  const act = json.pendingActivities[0];
  assert.equal(act.activityType.name, 'alwaysFails');
  assert.ok(act.attempt >= 2);
  assert.equal(act.lastFailure.message, 'upstream 503 from sixty60');
  await ok(['workflow', 'terminate', '-w', id]);
});
