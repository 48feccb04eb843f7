import { redirect } from '@sveltejs/kit';

import { routeForNamespaces } from '$lib/utilities/route-for';

// Temporalite has no per-namespace authorization: choosing a namespace is the namespace list.
export const load = async () => {
  redirect(302, routeForNamespaces());
};
