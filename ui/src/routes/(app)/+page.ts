// `/` opens the workflow list of the last used namespace, or of the default one.
import { get } from 'svelte/store';
import { redirect } from '@sveltejs/kit';

import { lastUsedNamespace } from '$lib/stores/namespaces';
import { routeForWorkflows } from '$lib/utilities/route-for';

export const load = async ({ parent }) => {
  const { settings } = await parent();
  const namespace = get(lastUsedNamespace) || settings?.defaultNamespace || 'default';
  redirect(302, routeForWorkflows({ namespace }));
};
