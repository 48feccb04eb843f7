import { error, redirect } from '@sveltejs/kit';

import { fetchWorkflowForRunId } from '$lib/services/workflow-service';

// A workflow id without a run id opens its latest run.
export const load = async ({ url, params }) => {
  const { runId } = await fetchWorkflowForRunId({
    namespace: params.namespace,
    workflowId: params.workflow,
  });
  if (!runId) error(404, `workflow ${params.workflow} not found`);
  redirect(302, `${url.pathname}/${runId}`);
};
