import { timingSafeEqual } from 'node:crypto';
import { TokenwardenError } from '../../errors.js';
import type { ServiceAccountInfo } from './claims.js';

/** What the checks read of a cluster object: its uid and whether deletion has begun. */
export interface LiveObject {
  readonly uid: string;
  /** `metadata.deletionTimestamp` in ms since the epoch, when set. */
  readonly deletionTimestampMs?: number;
}

export interface LiveSecret extends LiveObject {
  readonly labels: Readonly<Record<string, string>>;
  /** `data.token`, decoded. */
  readonly token?: Buffer;
}

/**
 * The cluster objects a service-account token may depend on, read from watch-fed caches
 * (never a request per review). `synced` is false until every cache has listed once: an
 * answer before that could accept a token whose pod is already gone.
 */
export interface ClusterObjects {
  synced(): boolean;
  serviceAccount(namespace: string, name: string): LiveObject | undefined;
  secret(namespace: string, name: string): LiveSecret | undefined;
  pod(namespace: string, name: string): LiveObject | undefined;
  node(name: string): LiveObject | undefined;
}

/** The key an object has in the result cache's dependency index. */
export function objectKey(
  kind: 'serviceaccounts' | 'secrets' | 'pods' | 'nodes',
  namespace: string,
  name: string,
): string {
  return `${kind}/${namespace.length}:${namespace}/${name}`;
}

/** kube's `invalidIfDeletedBefore`: objects in graceful deletion for up to 60 s still validate (claims.go). */
const DELETION_GRACE_MS = 60_000;

/** `kubernetes.io/legacy-token-invalid-since`, set by kube's legacy-token cleaner. */
export const LEGACY_INVALID_SINCE_LABEL = 'kubernetes.io/legacy-token-invalid-since';

const bound = (message: string): TokenwardenError => new TokenwardenError('ERR_TOKEN_BOUND_OBJECT', message);
const INVALIDATED = 'service account token has been invalidated';

/** client-go's NotFound text for a GET, which kube returns as is when the service account is gone. */
const notFound = (resource: string, name: string): TokenwardenError =>
  bound(`${resource} ${JSON.stringify(name)} not found`);

export const clusterUnavailable = (): TokenwardenError =>
  new TokenwardenError('ERR_CLUSTER_UNAVAILABLE', 'cluster state not yet available', {
    detail: 'the watch caches of live mode have not listed yet',
  });

function deletedBefore(obj: LiveObject, nowMs: number): boolean {
  return obj.deletionTimestampMs !== undefined && obj.deletionTimestampMs < nowMs - DELETION_GRACE_MS;
}

/**
 * The first of kube's bound-token lookups: the service account must exist, with the
 * claimed uid (an empty claim included), not deleted past the grace period. kube GETs it
 * with client-go when its informer has no such object, so a claim without a name or
 * namespace gets that GET's own error: client-go refuses an empty name before sending
 * (`resource name may not be empty`), and an empty namespace makes the path
 * `/api/v1/serviceaccounts/<name>`, which the apiserver does not serve.
 */
export function checkServiceAccountRef(
  ref: { readonly namespace: string; readonly name: string; readonly uid: string },
  objects: ClusterObjects,
  nowMs: number,
): TokenwardenError | undefined {
  if (!objects.synced()) return clusterUnavailable();
  const { namespace: ns, name, uid } = ref;
  if (name === '') return bound('resource name may not be empty');
  if (ns === '') return bound('the server could not find the requested resource');
  const sa = objects.serviceAccount(ns, name);
  if (!sa) return notFound('serviceaccounts', name);
  if (sa.uid !== uid) return bound(`service account UID (${sa.uid}) does not match claim (${uid})`);
  if (deletedBefore(sa, nowMs)) return bound(`service account ${ns}/${name} has been deleted`);
  return undefined;
}

/**
 * kube's bound-token validator (pkg/serviceaccount/claims.go, `Validate`), its lookups and
 * their order and texts: the service account (uid, then deletion), then the bound secret,
 * pod, or (only without a pod) node, each missing / uid / deleted past the grace period.
 * Returns the keys of the objects the answer relied on, so that their deletion evicts it.
 */
export function checkBoundObjects(
  info: ServiceAccountInfo,
  objects: ClusterObjects,
  nowMs: number,
): TokenwardenError | { readonly dependsOn: readonly string[] } {
  const saError = checkServiceAccountRef(info, objects, nowMs);
  if (saError) return saError;
  const ns = info.namespace;
  const dependsOn = [objectKey('serviceaccounts', ns, info.name)];
  const refs = info.boundRefs ?? {};
  const checks: Array<[string, { name: string; uid: string } | undefined, LiveObject | undefined, string]> =
    [];
  if (refs.secret)
    checks.push([
      'secret',
      refs.secret,
      objects.secret(ns, refs.secret.name),
      objectKey('secrets', ns, refs.secret.name),
    ]);
  if (refs.pod)
    checks.push(['pod', refs.pod, objects.pod(ns, refs.pod.name), objectKey('pods', ns, refs.pod.name)]);
  else if (refs.node)
    checks.push(['node', refs.node, objects.node(refs.node.name), objectKey('nodes', '', refs.node.name)]);
  for (const [kind, ref, live, key] of checks) {
    if (!ref) continue;
    if (!live) return bound(INVALIDATED);
    if (live.uid !== ref.uid) {
      return bound(`${kind} UID (${live.uid}) does not match service account ${kind} ref claim (${ref.uid})`);
    }
    if (deletedBefore(live, nowMs)) return bound(INVALIDATED);
    dependsOn.push(key);
  }
  return { dependsOn };
}

/**
 * kube's legacy validator with lookups on (pkg/serviceaccount/legacy.go): the Secret must
 * exist, not be deleting (no grace here) and hold the presented token; then the service
 * account as for bound tokens (with legacy.go's capitalised texts); then the cleaner's
 * invalid-since label. kube also labels the Secret `kubernetes.io/legacy-token-last-used`;
 * tokenwarden reads the cluster only and cannot.
 */
export function checkLegacyObjects(
  info: ServiceAccountInfo,
  secretName: string,
  token: string,
  objects: ClusterObjects,
): TokenwardenError | { readonly dependsOn: readonly string[] } {
  if (!objects.synced()) return clusterUnavailable();
  const ns = info.namespace;
  const secret = objects.secret(ns, secretName);
  if (!secret || secret.deletionTimestampMs !== undefined) return bound('Token has been invalidated');
  const presented = Buffer.from(token, 'utf8');
  const held = secret.token ?? Buffer.alloc(0);
  if (held.length !== presented.length || !timingSafeEqual(held, presented)) {
    return bound("Token does not match server's copy");
  }
  const sa = objects.serviceAccount(ns, info.name);
  if (!sa) return notFound('serviceaccounts', info.name);
  if (sa.deletionTimestampMs !== undefined)
    return bound(`ServiceAccount ${ns}/${info.name} has been deleted`);
  if (sa.uid !== info.uid) return bound(`ServiceAccount UID (${sa.uid}) does not match claim (${info.uid})`);
  if ((secret.labels[LEGACY_INVALID_SINCE_LABEL] ?? '') !== '') {
    return bound(
      `the token in secret ${ns}/${secretName} for service account ${ns}/${info.name} has been marked invalid. ` +
        'Use tokens from the TokenRequest API or manually created secret-based tokens, or remove the ' +
        `'${LEGACY_INVALID_SINCE_LABEL}' label from the secret to temporarily allow use of this token`,
    );
  }
  return { dependsOn: [objectKey('secrets', ns, secretName), objectKey('serviceaccounts', ns, info.name)] };
}
