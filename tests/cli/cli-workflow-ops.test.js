'use strict';
// The `temporalite` client commands (issue 5) against the real server binary: list, count, query, signal-with-start,
// update, reset, delete, batch jobs and task queues.
// The CLI is the same binary, run with child_process.execFile; stdout, stderr and the exit code
// are checked for text and `-o json` output (shared setup and helpers: cli-harness.js).
//
// Run: tests/run-node-tests.sh tests/cli/cli-workflow-ops.test.js

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  TASK_QUEUE, useCliServer, cli, tl, ok, okJson, startWorkflow, describeJson, pollUntil, uniqueName,
} = require('./cli-harness');

useCliServer();

// ---- delete, batch, task queues, namespaces ---------------------------------------------------

test('workflow list --status running lists running workflows', async () => {
  const id = await startWorkflow('sleeper');
  try {
    const text = await ok(['workflow', 'list', '--status', 'running']);
    assert.match(text, /^ {2}Status +WorkflowId +Type +StartTime$/m);
    assert.match(text, new RegExp(`^  Running +${id} +sleeper +`, 'm'));
    const json = await okJson(['workflow', 'list', '-q', `WorkflowId='${id}'`]);
    assert.equal(json.length, 1);
    assert.equal(json[0].execution.workflowId, id);
    const limited = await okJson(['workflow', 'list', '--limit', '1']);
    assert.equal(limited.length, 1);
  } finally {
    await tl(['workflow', 'terminate', '-w', id]);
  }
});

test('workflow list aligns its columns by display width with CJK and emoji ids', async () => {
  // Terminal columns of the characters used here: ASCII 1, CJK ideographs 2, the emoji 2.
  const columns = (s) => [...s].reduce((w, ch) => w + (ch.codePointAt(0) < 0x1100 ? 1 : 2), 0);
  const prefix = uniqueName('w');
  const ids = [`${prefix}-ascii-id`, `${prefix}-工作流`, `${prefix}-🚀x`];
  for (const id of ids) {
    await ok(['workflow', 'start', '--type', 'sleeper', '--task-queue', TASK_QUEUE, '--workflow-id', id]);
  }
  try {
    const text = await ok(['workflow', 'list', '-q', `WorkflowId STARTS_WITH '${prefix}'`]);
    const rows = text.split('\n').filter((l) => l.includes(prefix));
    assert.equal(rows.length, 3, text);
    // The Type column ("sleeper") starts at the same terminal column in every row.
    const typeColumn = rows.map((l) => columns(l.slice(0, l.indexOf(' sleeper') + 1)));
    assert.deepEqual(new Set(typeColumn).size, 1, `Type column at ${typeColumn}:\n${rows.join('\n')}`);
  } finally {
    for (const id of ids) await tl(['workflow', 'terminate', '-w', id]);
  }
});

test('workflow list --status rejects an unknown status (exit 2)', async () => {
  const r = await tl(['workflow', 'list', '--status', 'sleeping']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^Error: unknown --status sleeping/m);
});

test('workflow count counts by query, also grouped by status', async () => {
  const type = uniqueName('CountedWorkflow');
  const ids = [await startWorkflow(type), await startWorkflow(type)];
  try {
    const out = await ok(['workflow', 'count', '-q', `WorkflowType='${type}'`]);
    assert.match(out, /^Total: 2$/m);
    await tl(['workflow', 'terminate', '-w', ids[0]]);
    const grouped = await ok(['workflow', 'count', '-q', `WorkflowType='${type}' GROUP BY ExecutionStatus`]);
    assert.match(grouped, /^Total: 2$/m);
    assert.match(grouped, /^Group total: 1, values: Running$/m);
    assert.match(grouped, /^Group total: 1, values: Terminated$/m);
    const bad = await tl(['workflow', 'count', '-q', 'NoSuchAttr = 1']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /column name 'NoSuchAttr' is not a valid search attribute/);
  } finally {
    for (const id of ids) await tl(['workflow', 'terminate', '-w', id]);
  }
});

test('workflow query and stack answer from the worker', async () => {
  const id = await startWorkflow('waitForApproval');
  try {
    const out = await ok(['workflow', 'query', '-w', id, '--name', 'status']);
    assert.match(out, /^ {2}QueryResult +"waiting"$/m);
    const stack = await ok(['workflow', 'stack', '-w', id]);
    assert.match(stack, /Stack trace:/);
  } finally {
    await tl(['workflow', 'terminate', '-w', id]);
  }
});

test('workflow signal-with-start starts and signals', async () => {
  const id = uniqueName('sws');
  const out = await ok(['workflow', 'signal-with-start', '--type', 'waitForApproval', '-t', TASK_QUEUE, '-w', id, '--signal-name', 'approve', '--signal-input', '"sws"']);
  assert.match(out, /^Running execution:$/m);
  const json = await okJson(['workflow', 'result', '-w', id]);
  assert.deepEqual(json.result, { approvedBy: 'sws' });
});

test('workflow update execute returns the update result; a rejected update fails', async () => {
  const id = await startWorkflow('waitForApproval');
  try {
    const out = await ok(['workflow', 'update', 'execute', '-w', id, '--name', 'approve', '--input', '"cli"']);
    assert.match(out, /^ {2}Result +"waiting"$/m);
    const json = await okJson(['workflow', 'result', '-w', id]);
    assert.deepEqual(json.result, { approvedBy: 'cli' });
    const r = await tl(['workflow', 'update', 'execute', '-w', id, '--name', 'noSuchUpdate']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: /m);
  } finally {
    await tl(['workflow', 'terminate', '-w', id]);
  }
});

test('workflow reset to the first workflow task', async () => {
  const id = await startWorkflow('waitForApproval');
  try {
    await pollUntil(async () => (await describeJson(id)).workflowExecutionInfo.historyLength >= 4, { what: 'first workflow task completed' });
    const before = (await describeJson(id)).workflowExecutionInfo.execution.runId;
    const out = await ok(['workflow', 'reset', '-w', id, '--type', 'FirstWorkflowTask', '--reason', 'test']);
    const m = out.match(/new run ID: ([0-9a-f-]{36})/);
    assert.ok(m, out);
    assert.notEqual(m[1], before);
    const info = (await describeJson(id)).workflowExecutionInfo;
    assert.equal(info.execution.runId, m[1], 'the reset run is current');
    const base = await okJson(['workflow', 'describe', '-w', id, '-r', before]);
    assert.equal(base.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_TERMINATED');
    // The reset run is live: a worker runs it to completion.
    await ok(['workflow', 'signal', '-w', id, '--name', 'approve', '--input', '"after-reset"']);
    const json = await okJson(['workflow', 'result', '-w', id]);
    assert.deepEqual(json.result, { approvedBy: 'after-reset' });
  } finally {
    await tl(['workflow', 'terminate', '-w', id]);
  }
});

test('workflow reset --query: a batch reset job, as `temporal workflow reset --query`', async () => {
  const a = await startWorkflow('waitForApproval');
  const b = await startWorkflow('waitForApproval');
  try {
    for (const id of [a, b]) {
      await pollUntil(async () => (await describeJson(id)).workflowExecutionInfo.historyLength >= 4, { what: `${id}'s first workflow task` });
    }
    const before = {};
    for (const id of [a, b]) before[id] = (await describeJson(id)).workflowExecutionInfo.execution.runId;
    const query = `WorkflowId IN ('${a}', '${b}')`;
    // Flag checks as in `temporal`.
    const noType = await tl(['workflow', 'reset', '-q', query, '--reason', 'r', '--yes']);
    assert.equal(noType.code, 2);
    assert.match(noType.stderr, /--type/);
    const withEvent = await tl(['workflow', 'reset', '-q', query, '--type', 'FirstWorkflowTask', '-e', '4', '--reason', 'r', '--yes']);
    assert.equal(withEvent.code, 2);
    // The prompt counts the matches; "n" aborts.
    const declined = await tl(['workflow', 'reset', '-q', query, '--type', 'FirstWorkflowTask', '--reason', 'batch reset'], { stdin: 'n\n' });
    assert.notEqual(declined.code, 0);
    assert.match(declined.stderr, /2 workflow/);
    const out = await ok(['workflow', 'reset', '-q', query, '--type', 'LastWorkflowTask', '--reason', 'batch reset', '--yes']);
    const m = out.match(/^Started batch for job ID: (\S+)$/m);
    assert.ok(m, out);
    await pollUntil(async () => {
      const runs = await Promise.all([a, b].map(async (id) => (await describeJson(id)).workflowExecutionInfo.execution.runId));
      return runs[0] !== before[a] && runs[1] !== before[b];
    }, { timeoutMs: 20000, what: 'both workflows reset' });
    for (const id of [a, b]) {
      const base = await okJson(['workflow', 'describe', '-w', id, '-r', before[id]]);
      assert.equal(base.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_TERMINATED');
      const count = await okJson(['workflow', 'count', '-q', `WorkflowId = '${id}'`]);
      assert.equal(Number(count.count), 2, `${id} reset once`);
    }
    // The reset runs are live: a worker runs them to completion.
    await ok(['workflow', 'signal', '-w', a, '--name', 'approve', '--input', '"after-batch-reset"']);
    assert.deepEqual((await okJson(['workflow', 'result', '-w', a])).result, { approvedBy: 'after-batch-reset' });
  } finally {
    await tl(['workflow', 'terminate', '-w', a]);
    await tl(['workflow', 'terminate', '-w', b]);
  }
});

test('workflow delete removes the execution', async () => {
  const id = await startWorkflow('sleeper');
  const out = await ok(['workflow', 'delete', '-w', id, '--yes']);
  assert.match(out, /^Delete workflow succeeded$/m);
});

test('workflow delete -w does not prompt (only --query batches do), then the workflow is gone', async () => {
  const id = await startWorkflow('sleeper');
  // No terminal and no --yes: it must not wait for or ask a question.
  const out = await ok(['workflow', 'delete', '-w', id], { stdin: '' });
  assert.match(out, /^Delete workflow succeeded$/m);
  const gone = await tl(['workflow', 'describe', '-w', id]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /not found/i);
});

test('batch terminate by query: confirmation prompt, the job runs, the workflows are terminated', async () => {
  const a = await startWorkflow('sleeper');
  const b = await startWorkflow('sleeper');
  const query = `WorkflowId IN ('${a}', '${b}')`;
  // Without --yes the CLI counts the matches for the prompt; "n" aborts and nothing happens.
  const declined = await tl(['workflow', 'terminate', '-q', query, '--reason', 'batch'], { stdin: 'n\n' });
  assert.notEqual(declined.code, 0);
  assert.match(declined.stderr, /2 workflow/);
  const out = await ok(['workflow', 'terminate', '-q', query, '--reason', 'batch'], { stdin: 'y\n' });
  const m = out.match(/^Started batch for job ID: (\S+)$/m);
  assert.ok(m, out);
  await pollUntil(async () => {
    const states = await Promise.all([a, b].map(async (id) => (await okJson(['workflow', 'describe', '-w', id])).workflowExecutionInfo.status));
    return states.every((s) => s === 'WORKFLOW_EXECUTION_STATUS_TERMINATED');
  }, { timeoutMs: 20000, what: 'batch terminated both' });
  const show = await okJson(['workflow', 'show', '-w', a]);
  const last = show.events[show.events.length - 1];
  assert.equal(last.workflowExecutionTerminatedEventAttributes.reason, 'batch');
});

test('batch cancel / terminate: confirmation and flag checks', async () => {
  // Without --yes the CLI counts the matching workflows for the prompt (CountWorkflowExecutions).
  const noSuch = uniqueName('NoSuchType');
  const declined = await tl(['workflow', 'cancel', '-q', `WorkflowType='${noSuch}'`, '--reason', 'r'], { stdin: 'n\n' });
  assert.notEqual(declined.code, 0);
  assert.match(declined.stderr, /Start batch against approximately 0 workflow\(s\)\? y\/N/);
  const bad = await tl(['workflow', 'terminate', '-q', 'NoSuchAttr = 1', '--yes', '--reason', 'r']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /column name 'NoSuchAttr' is not a valid search attribute/);
  const both = await tl(['workflow', 'cancel', '-q', 'x', '-w', 'y']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^Error: cannot set --query when --workflow-id is set$/m);
  const neither = await tl(['workflow', 'cancel']);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /^Error: must set either --workflow-id or --query$/m);
  const jsonPrompt = await tl(['workflow', 'terminate', '-q', 'x', '-o', 'json']);
  assert.equal(jsonPrompt.code, 2);
  assert.match(jsonPrompt.stderr, /--yes/);
});

test('task-queue describe lists the worker as a poller, per type', async () => {
  const out = await ok(['task-queue', 'describe', '--task-queue', TASK_QUEUE]);
  assert.match(out, /^Pollers:$/m);
  assert.match(out, /^Task Queue Statistics:$/m);
  assert.match(out, /UNVERSIONED +workflow +\S+/);
  assert.match(out, /UNVERSIONED +activity +\S+/);
  const json = await okJson(['task-queue', 'describe', '-t', TASK_QUEUE, '--task-queue-type', 'workflow']);
  assert.ok(json.pollers.length >= 1, JSON.stringify(json));
  assert.ok(json.pollers.every((p) => p.taskQueueType === 'workflow' && p.identity && p.ratePerSecond > 0));
  assert.equal(json.stats.length, 1);
});

test('task-queue describe shows the backlog of a queue nobody polls', async () => {
  const queue = uniqueName('cli-tq-idle');
  const id = uniqueName('cli-backlog');
  await ok(['workflow', 'start', '--type', 'sleeper', '--task-queue', queue, '--workflow-id', id]);
  try {
    const json = await okJson(['task-queue', 'describe', '-t', queue, '--task-queue-type', 'workflow']);
    assert.deepEqual(json.pollers, []);
    assert.equal(json.stats[0].approximateBacklogCount, 1);
    assert.ok(json.stats[0].tasksAddRate > 0, JSON.stringify(json.stats));
    const text = await ok(['task-queue', 'describe', '-t', queue, '--task-queue-type', 'workflow']);
    assert.match(text, /UNVERSIONED +workflow +1 +/);
    const none = await tl(['task-queue', 'describe', '-t', '']);
    assert.notEqual(none.code, 0);
  } finally {
    await ok(['workflow', 'terminate', '-w', id]);
  }
});
