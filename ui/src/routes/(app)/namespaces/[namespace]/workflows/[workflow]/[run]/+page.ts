import { redirect } from '@sveltejs/kit';

// A run opens on its history tab.
export const load = async ({ url }) => {
  redirect(302, `${url.pathname}/history`);
};
