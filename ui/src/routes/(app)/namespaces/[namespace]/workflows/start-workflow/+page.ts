import { redirect } from '@sveltejs/kit';

import { routeForWorkflows } from '$lib/utilities/route-for';

// With write actions off, the start form is not offered.
export const load = async ({ params, parent }) => {
  const { settings } = await parent();
  if (settings?.disableWriteActions || settings?.startWorkflowDisabled) {
    redirect(302, routeForWorkflows({ namespace: params.namespace }));
  }
};
