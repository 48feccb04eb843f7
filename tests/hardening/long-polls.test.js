'use strict';
// 1,000 concurrent gRPC long polls on one server (issue 15, "Load"): the polls all wait at once
// (the server lists 1,000 pollers on the task queue), other RPCs on another connection still
// answer promptly while they wait, tasks started meanwhile go to waiting polls at once, and when
// the clients go away (connections closed, polls cancelled) the server serves on with nothing
// left behind. The polls are callback-API reactors (src/frontend/workflow_service.h): a waiting
// poll holds no thread. POLLS overrides the count (e.g. POLLS=5000 for a larger run).
//
// Run: tests/run-node-tests.sh tests/hardening/long-polls.test.js

const { test } = require('node:test');
const { setMaxListeners } = require('node:events');
const assert = require('node:assert/strict');

const { Connection } = require('@temporalio/client');
const { startServer, uniqueName } = require('../compat/harness');

const NS = 'default';
const POLLS = Number(process.env.POLLS || 1000);
const CONNECTIONS = 4; // as several workers would hold them

test(`${POLLS} concurrent long polls wait at once; other RPCs answer promptly; tasks reach waiting polls`, { timeout: 180000 }, async () => {
  const server = await startServer({ ephemeral: true });
  const pollers = await Promise.all(Array.from({ length: CONNECTIONS }, () => Connection.connect({ address: server.address, interceptors: [] })));
  const other = await Connection.connect({ address: server.address, interceptors: [] });
  const taskQueue = uniqueName('many-polls');
  try {
    // Every poll has a long deadline: the test ends them by closing the connections.
    const deadline = Date.now() + 150000;
    const settled = []; // answers (or errors) of the polls that have ended
    let answered = 0;
    const abort = new AbortController(); // the clients going away: every poll cancelled
    setMaxListeners(POLLS + 10, abort.signal);
    for (let i = 0; i < POLLS; i++) {
      const c = pollers[i % CONNECTIONS];
      c.withAbortSignal(abort.signal, () => c.withDeadline(deadline, () => c.workflowService.pollWorkflowTaskQueue({
        namespace: NS, taskQueue: { name: taskQueue }, identity: `poller-${i}`,
      }))).then((r) => { answered++; settled.push(r); }, (e) => { answered++; settled.push(e); });
    }

    // All are waiting in the server: it lists every poller on the queue.
    const until = Date.now() + 60000;
    let seen = 0;
    while (seen < POLLS) {
      const d = await other.workflowService.describeTaskQueue({ namespace: NS, taskQueue: { name: taskQueue }, taskQueueType: 1 });
      seen = d.pollers.length;
      if (seen >= POLLS) break;
      assert.ok(Date.now() < until, `only ${seen} of ${POLLS} polls reached the server`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(answered, 0, 'no poll answered before there was work');

    // Other RPCs answer promptly while the polls wait (each well under a second; generous for a
    // loaded 2-core machine: the bound is 3 s).
    const latencies = [];
    for (let i = 0; i < 20; i++) {
      const t0 = Date.now();
      if (i % 2) await other.workflowService.describeNamespace({ namespace: NS });
      else await other.workflowService.getSystemInfo({});
      latencies.push(Date.now() - t0);
    }
    latencies.sort((a, b) => a - b);
    assert.ok(latencies[latencies.length - 1] < 3000, `slowest call ${latencies[latencies.length - 1]} ms`);

    // Work started now goes to waiting polls at once.
    const started = [];
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) {
      const workflowId = uniqueName('many-polls-wf');
      await other.workflowService.startWorkflowExecution({
        namespace: NS, workflowId, workflowType: { name: 'w' }, taskQueue: { name: taskQueue }, requestId: workflowId,
      });
      started.push(workflowId);
    }
    const got = new Set();
    const waitFor = Date.now() + 30000;
    while (got.size < started.length && Date.now() < waitFor) {
      await new Promise((r) => setTimeout(r, 50));
      for (const r of settled) {
        assert.ok(!(r instanceof Error), `a poll failed: ${r && r.message}`);
        if (r.taskToken && r.taskToken.length > 0) got.add(r.workflowExecution.workflowId);
      }
    }
    assert.deepEqual([...got].sort(), [...started].sort(), 'each started workflow reached a waiting poll');
    const dispatchMs = Date.now() - t0;
    assert.ok(dispatchMs < 15000, `dispatch took ${dispatchMs} ms`);
    assert.equal(answered, started.length, 'only the polls that got a task answered');
    console.log(`${POLLS} polls waiting; other RPCs: median ${latencies[10]} ms, max ${latencies[19]} ms; 10 tasks dispatched in ${dispatchMs} ms`);

    // The clients go away: their polls are cancelled (a closed grpc-js channel lets its calls
    // run on; the abort cancels them). The server serves on, and a new poll gets the next task,
    // not a cancelled poll.
    abort.abort();
    const endBy = Date.now() + 30000;
    while (answered < POLLS) {
      assert.ok(Date.now() < endBy, `${POLLS - answered} polls not ended after the cancel`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.all(pollers.map((c) => c.close()));
    const after = await Connection.connect({ address: server.address, interceptors: [] });
    try {
      const workflowId = uniqueName('many-polls-after');
      await other.workflowService.startWorkflowExecution({
        namespace: NS, workflowId, workflowType: { name: 'w' }, taskQueue: { name: taskQueue }, requestId: workflowId,
      });
      const task = await after.withDeadline(Date.now() + 20000, () => after.workflowService.pollWorkflowTaskQueue({
        namespace: NS, taskQueue: { name: taskQueue }, identity: 'after',
      }));
      assert.equal(task.workflowExecution && task.workflowExecution.workflowId, workflowId);
    } finally {
      await after.close();
    }
  } finally {
    await Promise.all(pollers.map((c) => c.close().catch(() => {})));
    await other.close();
    await server.stop();
  }
});
