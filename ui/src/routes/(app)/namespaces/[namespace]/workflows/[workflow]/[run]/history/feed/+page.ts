import { redirect } from '@sveltejs/kit';

import { routeForEventHistory } from '$lib/utilities/route-for';

// Older links to a history view open the history tab.
export const load = async ({ params }) => {
  redirect(302, routeForEventHistory({ namespace: params.namespace, workflow: params.workflow, run: params.run }));
};
