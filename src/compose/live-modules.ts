// What composition uses of live mode, in one module that live-parts.ts imports on demand.
export { clusterTokenAuthenticator } from '../live/cluster-authenticator.js';
export {
  clusterAuthorizer,
  DELEGATED_ALLOW_TTL_MS,
  DELEGATED_DECISIONS,
  DELEGATED_DENY_TTL_MS,
} from '../live/cluster-authorizer.js';
export { loadClusterConfig } from '../live/cluster-config.js';
export { ClusterKeySource } from '../live/cluster-keys.js';
export { watchClusterObjects } from '../live/cluster-objects.js';
export { watchClusterPolicy } from '../live/cluster-policy.js';
export { clusterReviews } from '../live/cluster-reviews.js';
