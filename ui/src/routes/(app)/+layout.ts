// Data every page needs: the UI settings, cluster and system info, and the namespace list (kept
// in the library's store). Auth is off in Temporalite, so there is no login redirect.
import { fetchCluster, fetchSystemInfo } from '$lib/services/cluster-service';
import { fetchNamespaces } from '$lib/services/namespaces-service';
import { fetchSettings } from '$lib/services/settings-service';

import '../../app.css';

export const load = async ({ fetch }) => {
  const settings = await fetchSettings(fetch);
  fetchNamespaces(settings, fetch);
  const [cluster, systemInfo] = await Promise.all([
    fetchCluster(settings, fetch),
    fetchSystemInfo(settings, fetch),
  ]);
  return { user: {}, settings, cluster, systemInfo };
};
