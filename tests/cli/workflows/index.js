'use strict';
// Workflows the CLI tests drive through `temporalite workflow ...`. Plain CommonJS, bundled once
// by the SDK's webpack bundler (bundleWorkflowCode).
const {
  proxyActivities,
  defineSignal,
  defineQuery,
  defineUpdate,
  setHandler,
  condition,
  sleep,
  ApplicationFailure,
} = require('@temporalio/workflow');

const quick = proxyActivities({ startToCloseTimeout: '10s' });
// Retries forever, quickly: describe shows the pending activity with its attempt and last failure.
const retrying = proxyActivities({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 1, maximumInterval: '200ms' },
});

/** The runbook's ingestion workflow, in miniature: "scrapes" a store and reports the item count. */
exports.CheckersIngestionWorkflow = async function CheckersIngestionWorkflow(input) {
  const items = await quick.scrapeCatalogue(input.storeId);
  return { storeId: input.storeId, forceRefresh: !!input.forceRefresh, items };
};

/**
 * Waits for the `approve` signal (or the `approve` update, which returns the previous state) and
 * returns who approved; the `status` query reports the state.
 */
exports.waitForApproval = async function waitForApproval() {
  let approvedBy = null;
  setHandler(defineSignal('approve'), (who) => {
    approvedBy = who;
  });
  const status = () => (approvedBy === null ? 'waiting' : `approved by ${approvedBy}`);
  setHandler(defineQuery('status'), status);
  setHandler(defineUpdate('approve'), (who) => {
    const before = status();
    approvedBy = who;
    return before;
  });
  await condition(() => approvedBy !== null);
  return { approvedBy };
};

/** Sleeps for an hour (cancel / terminate targets). Cancellation ends it as CANCELED. */
exports.sleeper = async function sleeper() {
  await sleep('1h');
  return 'woke up';
};

/** Fails the workflow with a non-retryable ApplicationFailure. */
exports.failingIngestion = async function failingIngestion(message) {
  throw ApplicationFailure.create({ message, type: 'IngestionError', nonRetryable: true });
};

/** Calls an activity that always fails, retrying forever. */
exports.flakyIngestion = async function flakyIngestion() {
  await retrying.alwaysFails();
};
