'use strict';
// Workflows of the web UI browser test (tests/ui/ui.test.js), bundled by the SDK.
const wf = require('@temporalio/workflow');

const { alwaysFails } = wf.proxyActivities({
  startToCloseTimeout: '10s',
  // Retries forever, about one attempt a second: the pending activity's attempt count grows.
  retry: { initialInterval: '1s', backoffCoefficient: 1, maximumInterval: '1s' },
});

const approve = wf.defineSignal('approve');
const addItem = wf.defineUpdate('addItem');
const items = wf.defineQuery('items');
const finish = wf.defineSignal('finish');

/** Completes at once. */
async function uiGreet(name) {
  return `Hello, ${name}!`;
}

/** Fails at once (ExecutionStatus 'Failed'). */
async function uiFail(reason) {
  throw wf.ApplicationFailure.nonRetryable(`order rejected: ${reason}`, 'OrderRejected');
}

/** Waits for the `approve` signal, then completes with the signal's argument. */
async function uiAwaitApproval() {
  let approvedBy;
  wf.setHandler(approve, (by) => {
    approvedBy = by;
  });
  await wf.condition(() => approvedBy !== undefined);
  return `approved by ${approvedBy}`;
}

/** Runs an activity that keeps failing (the pending activity with attempts and last failure). */
async function uiRetrying(key) {
  return alwaysFails(key);
}

/** Waits forever (terminated from the UI). */
async function uiForever() {
  await wf.condition(() => false);
}

/** Keeps a cart: the `addItem` update adds an item and returns the count; `finish` completes. */
async function uiCart() {
  const cart = [];
  let done = false;
  wf.setHandler(addItem, (item) => {
    cart.push(item);
    return `${cart.length} item(s), last ${item}`;
  });
  wf.setHandler(items, () => cart);
  wf.setHandler(finish, () => {
    done = true;
  });
  await wf.condition(() => done);
  return cart;
}

/** Runs uiGreet as a child (the relationships page), returns its result. */
async function uiParent(name) {
  const child = await wf.executeChild(uiGreet, { workflowId: `${wf.workflowInfo().workflowId}-child`, args: [name] });
  return `parent of: ${child}`;
}

/** `n` short timers one after another: a history of about 5n events (more than a server page). */
async function uiManyTimers(n) {
  for (let i = 0; i < n; i++) await wf.sleep(1);
  return `slept ${n} times`;
}

module.exports = { uiGreet, uiFail, uiAwaitApproval, uiRetrying, uiForever, uiCart, uiParent, uiManyTimers };
