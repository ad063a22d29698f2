// The versions detcd reports. One place, so /version, Maintenance.Status, the etcd_server_version
// metric and `detcd --version` never disagree.

/** detcd's own release (kept equal to package.json's "version"; a test checks it). */
export const DETCD_VERSION = "0.1.0";

/**
 * The etcd server version detcd answers as. Clients (etcdctl, client libraries, Kubernetes) gate
 * features on it, so it names the etcd release whose v3 API detcd implements.
 */
export const ETCD_SERVER_VERSION = "3.5.33";

/** The cluster version (etcd reports major.minor.0 once every member runs that release). */
export const ETCD_CLUSTER_VERSION = "3.5.0";
