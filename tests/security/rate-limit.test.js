'use strict';
// Per-namespace rate limits under Temporal's dynamic config names (--dynamic-config-value
// frontend.namespaceRPS / frontend.rps / frontend.namespaceBurstRatio / frontend.namespaceCount):
// over-limit calls get RESOURCE_EXHAUSTED with Temporal's message and a ResourceExhaustedFailure
// (cause RPS_LIMIT, or CONCURRENT_LIMIT for long polls), the official TypeScript SDK retries
// them until its calls succeed, long polls are limited by their number and charged to the rate
// at the lowest priority, and visibility calls go to frontend.namespaceRPS.visibility instead of
// the namespace rate (Temporal's frontend quotas); the CLI and the UI port send Temporal's
// `caller-type: operator`; system.pollWaitForNamespaceRateLimitToken (also per namespace,
// KEY@NAMESPACE=VALUE) makes refused polls wait, and a cancelled waiting poll gives its token
// back; frontend.namespaceCount counts per namespace and method.
//
// Run: tests/run-node-tests.sh tests/security/rate-limit.test.js

const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { Connection, Client } = require('@temporalio/client');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');
const proto = require('@temporalio/proto');

const { startServer, installRuntime, uniqueName } = require('../compat/harness');

const RESOURCE_EXHAUSTED = 8;
const enums = proto.temporal.api.enums.v1;
let workflowBundle;

before(async () => {
  installRuntime();
  workflowBundle = await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'workflows.js'), logger: new DefaultLogger('WARN') });
}, { timeout: 120000 });

/** The ResourceExhaustedFailure in a gRPC error's grpc-status-details-bin. */
function failureOf(e) {
  const bin = e.metadata && e.metadata.get('grpc-status-details-bin')[0];
  assert.ok(bin, `no status details in ${e.message}`);
  const status = proto.google.rpc.Status.decode(bin);
  assert.equal(status.details.length, 1);
  assert.equal(status.details[0].type_url, 'type.googleapis.com/temporal.api.errordetails.v1.ResourceExhaustedFailure');
  return proto.temporal.api.errordetails.v1.ResourceExhaustedFailure.decode(status.details[0].value);
}

/**
 * Runs the calls at once; returns [successes, RESOURCE_EXHAUSTED errors, seconds taken] (anything
 * else throws). A bucket refills while the calls arrive: a loaded machine stretches the burst.
 */
async function burst(calls) {
  const t0 = Date.now();
  const results = await Promise.allSettled(calls.map((c) => c()));
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  const refused = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  for (const e of refused) assert.equal(e.code, RESOURCE_EXHAUSTED, e.message);
  return [ok, refused, (Date.now() - t0) / 1000];
}

test('namespaceRPS: RESOURCE_EXHAUSTED as Temporal answers it, per namespace; the SDK retries until every start and completion succeeds', async () => {
  const server = await startServer({
    ephemeral: true,
    extraArgs: ['-n', 'other', '--dynamic-config-value', 'frontend.namespaceRPS=4', '--dynamic-config-value', 'frontend.namespaceBurstRatio=2'],
  });
  const raw = await Connection.connect({ address: server.address, interceptors: [] }); // no retries
  const sdk = await Connection.connect({ address: server.address }); // the SDK's default retries
  let worker;
  let workerRun;
  try {
    // A bucket of 4 x 2 = 8 calls, refilled at 4/s: 30 at once leave the rest refused.
    const [ok, refused, secs] = await burst(Array.from({ length: 30 }, () => () => raw.workflowService.describeNamespace({ namespace: 'default' })));
    assert.ok(ok >= 8 && ok <= 8 + Math.ceil(4 * secs), `${ok} calls got through in ${secs} s`);
    assert.ok(refused.length > 0);
    assert.equal(refused.length, 30 - ok);
    assert.match(refused[0].details, /^namespace rate limit exceeded$/);
    const failure = failureOf(refused[0]);
    assert.equal(failure.cause, enums.ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT);
    assert.equal(failure.scope, enums.ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
    // Another namespace has its own bucket; calls without a namespace are not namespace-limited.
    await raw.workflowService.describeNamespace({ namespace: 'other' });
    await raw.workflowService.getSystemInfo({});

    // The SDK: 16 starts at once, then a worker runs them all; the refused calls are retried.
    const taskQueue = uniqueName('rl-tq');
    const client = new Client({ connection: sdk, namespace: 'default' });
    const ids = Array.from({ length: 16 }, (_, i) => `rl-wf-${i}`);
    const t0 = Date.now();
    const handles = await Promise.all(ids.map((workflowId) => client.workflow.start('greet', { taskQueue, workflowId, args: [workflowId] })));
    const startMs = Date.now() - t0;
    assert.ok(startMs >= 500, `16 starts at 4/s after a burst of 8 took only ${startMs} ms`);
    const native = await NativeConnection.connect({ address: server.address });
    worker = await Worker.create({ connection: native, namespace: 'default', taskQueue, workflowBundle, shutdownGraceTime: '1s' });
    workerRun = worker.run();
    const results = await Promise.all(handles.map((h) => h.result()));
    assert.deepEqual(results, ids.map((id) => `hello ${id}`));
    // Exactly one run each (a retried start is not a second workflow).
    let count = 0;
    for await (const wf of client.workflow.list({ query: `TaskQueue="${taskQueue}"` })) {
      assert.equal(wf.status.name, 'COMPLETED');
      count++;
    }
    assert.equal(count, ids.length);
  } finally {
    if (worker) {
      worker.shutdown();
      await workerRun.catch(() => {});
    }
    await raw.close();
    await sdk.close();
    await server.stop();
  }
});

test('frontend.rps limits the whole server; namespaceCount limits concurrent long polls, which are also charged to the rate', async () => {
  const server = await startServer({
    ephemeral: true,
    extraArgs: ['-n', 'other', '--dynamic-config-value', 'frontend.rps=3', '--dynamic-config-value', 'frontend.namespaceCount=2'],
  });
  const raw = await Connection.connect({ address: server.address, interceptors: [] });
  try {
    // Service-wide: every namespace and calls without one share one bucket of 3 (GetSystemInfo,
    // what SDKs call first, stays open).
    const [ok, refused, secs] = await burst(Array.from({ length: 21 }, (_, i) => () =>
      (i % 3 === 0 ? raw.workflowService.describeNamespace({ namespace: 'default' })
        : i % 3 === 1 ? raw.workflowService.describeNamespace({ namespace: 'other' }) : raw.workflowService.listNamespaces({}))));
    assert.ok(ok >= 3 && ok <= 3 + Math.ceil(3 * secs), `${ok} calls got through in ${secs} s`);
    assert.ok(refused.length > 0);
    await raw.workflowService.getSystemInfo({});
    assert.match(refused[0].details, /^service rate limit exceeded$/);
    assert.equal(failureOf(refused[0]).scope, enums.ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_SYSTEM);

    // Long polls are charged to the rate at the lowest priority: refused while the bucket is empty...
    const taskQueue = uniqueName('rl-poll');
    const poll = () => raw.workflowService.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, identity: 'rl-test' });
    const deadline = () => Date.now() + 4000;
    const early = await raw.withDeadline(deadline(), poll).then(() => null, (e) => e);
    assert.ok(early, 'a poll was accepted with the service bucket empty');
    assert.equal(early.code, RESOURCE_EXHAUSTED, early.message);
    assert.match(early.details, /^service rate limit exceeded$/);
    assert.equal(failureOf(early).cause, enums.ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT);
    // ...and once it has refilled (3/s, burst 3), two polls wait...
    await new Promise((r) => setTimeout(r, 2500));
    const polls = [0, 1].map(() => raw.withDeadline(deadline(), poll));
    await new Promise((r) => setTimeout(r, 300));
    // ...and a third one in the namespace is refused at once: CONCURRENT_LIMIT.
    const t0 = Date.now();
    const third = await raw.withDeadline(deadline(), poll).then(() => null, (e) => e);
    assert.ok(third, 'a third concurrent poll was accepted');
    assert.equal(third.code, RESOURCE_EXHAUSTED, third.message);
    assert.match(third.details, /^namespace concurrent poller limit exceeded$/);
    assert.equal(failureOf(third).cause, enums.ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT);
    assert.ok(Date.now() - t0 < 2000, 'the refused poll waited');
    // The two polls end empty at their deadline; then polls are accepted again.
    for (const p of polls) {
      const r = await p;
      assert.ok(!r.taskToken || r.taskToken.length === 0);
    }
    const again = await raw.withDeadline(Date.now() + 2500, poll);
    assert.ok(!again.taskToken || again.taskToken.length === 0);
  } finally {
    await raw.close();
    await server.stop();
  }
});

test('visibility calls use frontend.namespaceRPS.visibility, not the namespace rate; polls are refused first when a namespace is busy', async () => {
  // Buckets of 2 refilled every 5 s: the refills during the test stay below one token.
  const server = await startServer({
    ephemeral: true,
    extraArgs: ['--dynamic-config-value', 'frontend.namespaceRPS=0.2', '--dynamic-config-value', 'frontend.namespaceBurstRatio=10',
      '--dynamic-config-value', 'frontend.namespaceRPS.visibility=0.2', '--dynamic-config-value', 'frontend.namespaceBurstRatio.visibility=10'],
  });
  const raw = await Connection.connect({ address: server.address, interceptors: [] });
  const refusal = (p) => p.then(() => null, (e) => e);
  const assertRateRefusal = (e, what) => {
    assert.ok(e, `${what} was accepted`);
    assert.equal(e.code, RESOURCE_EXHAUSTED, e.message);
    assert.match(e.details, /^namespace rate limit exceeded$/);
    assert.equal(failureOf(e).cause, enums.ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT);
    assert.equal(failureOf(e).scope, enums.ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
  };
  try {
    // Two namespace reads (the highest priority) use up the namespace rate...
    await raw.workflowService.describeNamespace({ namespace: 'default' });
    await raw.workflowService.describeNamespace({ namespace: 'default' });
    assertRateRefusal(await refusal(raw.workflowService.describeNamespace({ namespace: 'default' })), 'a third DescribeNamespace');
    // ...and every lower priority's share with it: a poll is refused by the rate at once.
    const poll = raw.withDeadline(Date.now() + 3000, () =>
      raw.workflowService.pollActivityTaskQueue({ namespace: 'default', taskQueue: { name: uniqueName('rl-vis') }, identity: 'rl-test' }));
    assertRateRefusal(await refusal(poll), 'a poll in a busy namespace');
    // List/count calls are charged to the visibility bucket, which is still full.
    await raw.workflowService.listWorkflowExecutions({ namespace: 'default', query: '' });
    await raw.workflowService.countWorkflowExecutions({ namespace: 'default', query: '' });
    assertRateRefusal(await refusal(raw.workflowService.listWorkflowExecutions({ namespace: 'default', query: '' })), 'a third list');
  } finally {
    await raw.close();
    await server.stop();
  }
});

test('caller-type: operator calls go first (system.operatorRPSRatio); namespace changes have their own bucket; OperatorService is not limited', async () => {
  // Buckets of 2 refilled every 5 s (the operator's every 25 s): no refill during the test.
  const server = await startServer({
    ephemeral: true,
    extraArgs: ['--dynamic-config-value', 'frontend.namespaceRPS=0.2', '--dynamic-config-value', 'frontend.namespaceBurstRatio=10',
      '--dynamic-config-value', 'frontend.namespaceRPS.namespaceReplicationInducingAPIs=0.2',
      '--dynamic-config-value', 'frontend.namespaceBurstRatio.namespaceReplicationInducingAPIs=10'],
  });
  const raw = await Connection.connect({ address: server.address, interceptors: [] });
  const operator = await Connection.connect({ address: server.address, interceptors: [], metadata: { 'caller-type': 'operator' } });
  const refusal = (p) => p.then(() => null, (e) => e);
  const taskQueue = uniqueName('rl-op');
  const start = (svc, workflowId) => svc.startWorkflowExecution({ namespace: 'default', workflowId, workflowType: { name: 'w' },
    taskQueue: { name: taskQueue }, requestId: uniqueName('req') });
  try {
    // Two starts use up the namespace's rate (priority 1 and every lower one)...
    const wf = uniqueName('rl-op-wf');
    await start(raw.workflowService, wf);
    await start(raw.workflowService, uniqueName('rl-op-wf'));
    const refused = await refusal(raw.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: wf } }));
    assert.ok(refused, 'a describe in the busy namespace was accepted');
    assert.equal(refused.code, RESOURCE_EXHAUSTED, refused.message);
    // ...but an operator's calls are decided at priority 0, whose bucket is still full.
    const d = await operator.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: wf } });
    assert.equal(d.workflowExecutionInfo.execution.workflowId, wf);
    await operator.workflowService.terminateWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: wf }, reason: 'rl' });
    const third = await refusal(operator.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: wf } }));
    assert.ok(third, 'a third operator call was accepted (burst 2)');
    assert.equal(third.code, RESOURCE_EXHAUSTED, third.message);
    assert.match(third.details, /^namespace rate limit exceeded$/);
    // Namespace changes are charged to their own bucket (still full), keyed by the namespace.
    const ns = uniqueName('rl-ns');
    await raw.workflowService.registerNamespace({ namespace: ns, workflowExecutionRetentionPeriod: { seconds: 3 * 86400 } });
    await raw.workflowService.updateNamespace({ namespace: ns, updateInfo: { description: 'one' } });
    const update = await refusal(raw.workflowService.updateNamespace({ namespace: ns, updateInfo: { description: 'two' } }));
    assert.ok(update, 'a third namespace change was accepted');
    assert.equal(update.code, RESOURCE_EXHAUSTED, update.message);
    assert.equal(failureOf(update).scope, enums.ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
    // OperatorService calls are not rate-limited (none of Temporal's priority tables has them).
    for (let i = 0; i < 5; i++) await raw.operatorService.listSearchAttributes({ namespace: 'default' });
  } finally {
    await operator.close();
    await raw.close();
    await server.stop();
  }
});

test('the CLI and the UI port send caller-type: operator (as Temporal\'s CLI and UI do): their calls go through a used-up namespace rate', async () => {
  const { execFile } = require('node:child_process');
  const { serverBinary } = require('../compat/harness');
  // Buckets of 4 refilled every 5 s (the operator's every 25 s): no refill during the test.
  const server = await startServer({
    ephemeral: true,
    headless: false,
    extraArgs: ['--dynamic-config-value', 'frontend.namespaceRPS=0.2', '--dynamic-config-value', 'frontend.namespaceBurstRatio=20'],
  });
  const raw = await Connection.connect({ address: server.address, interceptors: [] });
  const taskQueue = uniqueName('rl-cli');
  const wf = uniqueName('rl-cli-wf');
  try {
    for (let i = 0; i < 4; i++) {
      await raw.workflowService.startWorkflowExecution({ namespace: 'default', workflowId: i === 0 ? wf : uniqueName('rl-cli-wf'),
        workflowType: { name: 'w' }, taskQueue: { name: taskQueue }, requestId: uniqueName('req') });
    }
    const refused = await raw.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: wf } })
      .then(() => null, (e) => e);
    assert.ok(refused, 'a describe in the busy namespace was accepted');
    assert.equal(refused.code, RESOURCE_EXHAUSTED, refused.message);
    // The CLI's describe is an operator call (priority 0, its own bucket).
    const cli = await new Promise((resolve) => execFile(serverBinary(), ['workflow', 'describe', '-w', wf, '--address', server.address],
      { timeout: 20000 }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr })));
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(wf));
    // The UI port passes the UI's `Caller-Type: operator` on; a request without it is refused (429).
    const url = `${server.uiUrl()}/api/v1/namespaces/default/workflows/${wf}`;
    const plain = await fetch(url);
    assert.equal(plain.status, 429, await plain.text());
    const ui = await fetch(url, { headers: { 'Caller-Type': 'operator' } });
    const body = await ui.text();
    assert.equal(ui.status, 200, body);
    assert.equal(JSON.parse(body).workflowExecutionInfo.execution.workflowId, wf);
  } finally {
    await raw.close();
    await server.stop();
  }
});

test('system.pollWaitForNamespaceRateLimitToken: a task poll the namespace rate refuses waits for its token (unless that is within 10 s of its deadline)', async () => {
  // A bucket of 1 refilled every 2 s.
  const server = await startServer({
    ephemeral: true,
    extraArgs: ['--dynamic-config-value', 'frontend.namespaceRPS=0.5', '--dynamic-config-value', 'frontend.namespaceBurstRatio=2',
      '--dynamic-config-value', 'system.pollWaitForNamespaceRateLimitToken=true'],
  });
  const raw = await Connection.connect({ address: server.address, interceptors: [] });
  const operator = await Connection.connect({ address: server.address, interceptors: [], metadata: { 'caller-type': 'operator' } });
  const taskQueue = uniqueName('rl-wait');
  const poll = (ms) => raw.withDeadline(Date.now() + ms, () =>
    raw.workflowService.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, identity: 'rl-test' }));
  try {
    // An operator's start (priority 0) takes the token of every priority: the task is there, the
    // poll bucket is empty.
    await operator.workflowService.startWorkflowExecution({ namespace: 'default', workflowId: uniqueName('rl-wait-wf'),
      workflowType: { name: 'w' }, taskQueue: { name: taskQueue }, requestId: uniqueName('req') });
    const t0 = Date.now();
    const task = await poll(20000);
    const waited = Date.now() - t0;
    assert.ok(task.taskToken && task.taskToken.length > 0, 'the waiting poll got the task');
    assert.ok(waited >= 1000, `the poll got its task after ${waited} ms: it did not wait for its token (about 2 s)`);
    // The bucket is in debt now; a poll with a deadline within 10 s is refused at once.
    const t1 = Date.now();
    const near = await poll(9000).then(() => null, (e) => e);
    assert.ok(near, 'a poll near its deadline was accepted');
    assert.equal(near.code, RESOURCE_EXHAUSTED, near.message);
    assert.match(near.details, /^namespace rate limit exceeded$/);
    assert.ok(Date.now() - t1 < 3000, 'the refused poll waited');
    // A waiting poll the caller cancels ends at once; the server goes on when its token comes due.
    const abort = new AbortController();
    const t2 = Date.now();
    const cancelled = raw.withAbortSignal(abort.signal, () => raw.withDeadline(Date.now() + 20000, () =>
      raw.workflowService.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, identity: 'rl-test' })));
    setTimeout(() => abort.abort(), 300);
    const err = await cancelled.then(() => null, (e) => e);
    assert.ok(err, 'the cancelled poll answered');
    assert.equal(err.code, 1, err.message); // CANCELLED
    assert.ok(Date.now() - t2 < 2000, `the cancelled poll ended after ${Date.now() - t2} ms`);
    await new Promise((r) => setTimeout(r, 4000)); // past the token it had reserved
    await raw.workflowService.getSystemInfo({});
  } finally {
    await operator.close();
    await raw.close();
    await server.stop();
  }
});

test('system.pollWaitForNamespaceRateLimitToken@NAMESPACE sets it for one namespace; a cancelled waiting poll gives its token back', async () => {
  // A bucket of 1 per namespace, refilled every 4 s; polls wait in 'other' only.
  const server = await startServer({
    ephemeral: true,
    extraArgs: ['-n', 'other', '--dynamic-config-value', 'frontend.namespaceRPS=0.25', '--dynamic-config-value', 'frontend.namespaceBurstRatio=2',
      '--dynamic-config-value', 'system.pollWaitForNamespaceRateLimitToken@other=true'],
  });
  const raw = await Connection.connect({ address: server.address, interceptors: [] });
  const operator = await Connection.connect({ address: server.address, interceptors: [], metadata: { 'caller-type': 'operator' } });
  const taskQueue = uniqueName('rl-ns-wait');
  const poll = (namespace, ms, signal) => {
    const call = () => raw.withDeadline(Date.now() + ms, () =>
      raw.workflowService.pollWorkflowTaskQueue({ namespace, taskQueue: { name: taskQueue }, identity: 'rl-test' }));
    return (signal ? raw.withAbortSignal(signal, call) : call()).then((r) => ({ r }), (e) => ({ e }));
  };
  // An operator's start (priority 0) takes the token of every priority: the poll bucket is empty.
  const start = (namespace) => operator.workflowService.startWorkflowExecution({ namespace, workflowId: uniqueName('rl-ns-wf'),
    workflowType: { name: 'w' }, taskQueue: { name: taskQueue }, requestId: uniqueName('req') });
  try {
    await start('default');
    await start('other');
    // 'default' keeps Temporal's default (off): refused at once.
    const refused = await poll('default', 20000);
    assert.ok(refused.e, 'a poll in default waited');
    assert.equal(refused.e.code, RESOURCE_EXHAUSTED, refused.e.message);
    assert.match(refused.e.details, /^namespace rate limit exceeded$/);
    // 'other' waits for its token (about 4 s), then gets the task.
    const t0 = Date.now();
    const task = await poll('other', 30000);
    assert.ok(task.r && task.r.taskToken && task.r.taskToken.length > 0, `the waiting poll got no task: ${task.e && task.e.message}`);
    assert.ok(Date.now() - t0 >= 2000, `the poll in other got its task after ${Date.now() - t0} ms: it did not wait for its token`);
    // The bucket is empty again. A poll reserves the next token (due in about 4 s); its caller
    // cancels it.
    const abort = new AbortController();
    const cancelled = poll('other', 30000, abort.signal);
    setTimeout(() => abort.abort(), 300);
    const c = await cancelled;
    assert.equal(c.e && c.e.code, 1, 'the waiting poll was cancelled'); // CANCELLED
    // The server ends the cancelled call on its own (no signal a client can see): a moment.
    await new Promise((r) => setTimeout(r, 300));
    // A poll that must have its token within 6 s (deadline 16 s): with the cancelled poll's token
    // given back its token is due in under 4 s and it waits; without, in about 7 s: refused at once.
    const after = new AbortController();
    const next = poll('other', 16000, after.signal);
    const early = await Promise.race([next, new Promise((r) => setTimeout(() => r(undefined), 1500))]);
    assert.equal(early, undefined, `the poll was answered at once: ${early && (early.e ? early.e.message : 'a task')}`);
    after.abort();
    const n = await next;
    assert.equal(n.e && n.e.code, 1, n.e && n.e.message);
  } finally {
    await operator.close();
    await raw.close();
    await server.stop();
  }
});

test('frontend.namespaceCount counts per namespace and method, the history long poll too (as Temporal counts)', async () => {
  const server = await startServer({ ephemeral: true, extraArgs: ['--dynamic-config-value', 'frontend.namespaceCount=1'] });
  const raw = await Connection.connect({ address: server.address, interceptors: [] });
  const settle = (p) => p.then((r) => ({ r }), (e) => ({ e }));
  const concurrent = (e) => e && e.code === RESOURCE_EXHAUSTED && /^namespace concurrent poller limit exceeded$/.test(e.details);
  try {
    const taskQueue = uniqueName('rl-count');
    const call = (fn) => settle(raw.withDeadline(Date.now() + 4000, () => fn({ namespace: 'default', taskQueue: { name: taskQueue }, identity: 'rl-test' })));
    // Two workflow polls and an activity poll at once: one workflow poll is refused, the
    // activity poll has a count of its own.
    const [w1, w2, a] = await Promise.all([call((r) => raw.workflowService.pollWorkflowTaskQueue(r)),
      call((r) => raw.workflowService.pollWorkflowTaskQueue(r)), call((r) => raw.workflowService.pollActivityTaskQueue(r))]);
    assert.equal([w1, w2].filter((x) => concurrent(x.e)).length, 1, `${w1.e && w1.e.message} / ${w2.e && w2.e.message}`);
    assert.ok(!a.e, `the activity poll: ${a.e && a.e.message}`);
    // GetWorkflowExecutionHistory with wait_new_event is a long poll of its own.
    const workflowId = uniqueName('rl-count-wf');
    await raw.workflowService.startWorkflowExecution({ namespace: 'default', workflowId, workflowType: { name: 'w' },
      taskQueue: { name: uniqueName('rl-idle') }, requestId: uniqueName('req') });
    const req = { namespace: 'default', execution: { workflowId }, waitNewEvent: true };
    const head = await raw.workflowService.getWorkflowExecutionHistory(req);
    assert.ok(head.nextPageToken && head.nextPageToken.length > 0);
    const longPoll = () => settle(raw.withDeadline(Date.now() + 4000, () =>
      raw.workflowService.getWorkflowExecutionHistory({ ...req, nextPageToken: head.nextPageToken })));
    const [h1, h2, wft] = await Promise.all([longPoll(), longPoll(), call((r) => raw.workflowService.pollWorkflowTaskQueue(r))]);
    assert.equal([h1, h2].filter((x) => concurrent(x.e)).length, 1, `${h1.e && h1.e.message} / ${h2.e && h2.e.message}`);
    assert.ok(!concurrent(wft.e), 'the workflow poll shares no count with the history long polls');
    // Plain history reads are not counted.
    await Promise.all([0, 1, 2].map(() => raw.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } })));
  } finally {
    await raw.close();
    await server.stop();
  }
});

test('bad rate-limit values stop the server at start, naming the key', async () => {
  const { execFile } = require('node:child_process');
  const { serverBinary } = require('../compat/harness');
  for (const [value, re] of [['frontend.namespaceRPS=fast', /frontend.namespaceRPS: "fast" is not a non-negative number/],
    ['frontend.namespaceCount=1.5', /not a non-negative integer/], ['frontend.nope=1', /unknown dynamic config key.*frontend.namespaceRPS/],
    ['system.operatorRPSRatio=2', /system.operatorRPSRatio: "2" is not a ratio in \(0, 1\]/],
    // One list of every key, the frontend's and the engine's, in one message.
    ['nope=1', /unknown dynamic config key "nope" \(known: frontend\.rps, [^)]*frontend\.namespaceCount, [^)]*frontend\.globalNamespaceCount, temporalite\.evictIdleRuns, [^)]*history\.maxTotalUpdates[^)]*system\.enableActivityEagerExecution, matching\.queryPollerUnavailableWindow, history\.workflowIdReuseMinimalInterval, history\.enableWorkflowIdReuseStartTimeValidation\)\n/]]) {
    const r = await new Promise((resolve) => execFile(serverBinary(), ['server', 'start-dev', '--ephemeral', '--port', '0', '--headless',
      '--http-port', '0', '--dynamic-config-value', value], { timeout: 20000 }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stderr })));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
  }
});
