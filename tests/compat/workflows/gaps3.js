'use strict';
// Workflows of the second compatibility-gap test file (gaps3.test.js).
const { proxyActivities, executeChild } = require('@temporalio/workflow');

/** Schedules an activity whose priority Temporal refuses (a fairness key over 64 bytes). */
exports.badActivityPriorityWorkflow = async function badActivityPriorityWorkflow() {
  const { echo } = proxyActivities({ startToCloseTimeout: '10s', priority: { fairnessKey: 'k'.repeat(65) } });
  return echo('never');
};

/** Starts a child whose priority Temporal refuses (a negative fairness weight). */
exports.badChildPriorityWorkflow = async function badChildPriorityWorkflow(childId) {
  return executeChild('badActivityPriorityWorkflow', { workflowId: childId, priority: { fairnessWeight: -1 } });
};
