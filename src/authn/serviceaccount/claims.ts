import { TokenwardenError } from '../../errors.js';
import { isObject, own } from '../../json.js';
import {
  EXTRA_CREDENTIAL_ID,
  EXTRA_NODE_NAME,
  EXTRA_NODE_UID,
  EXTRA_POD_NAME,
  EXTRA_POD_UID,
  isValidNamespace,
  isValidServiceAccountName,
  serviceAccountGroups,
  serviceAccountUsername,
  splitServiceAccountUsername,
  type UserInfo,
} from '../../user.js';

/** go-jose's DefaultLeeway, applied by kube to nbf, exp and iat alike. */
export const LEEWAY_MS = 60_000;

type Claims = Readonly<Record<string, unknown>>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** NumericDate as go-jose decodes it: any JSON number, truncated to whole seconds. */
function numericDateMs(claims: Claims, name: string): number | undefined {
  const v = own(claims, name);
  return typeof v === 'number' ? Math.trunc(v) * 1000 : undefined;
}

/**
 * go-jose `ValidateWithLeeway` as kube's bound validator calls it: nbf, then exp, then
 * iat, each only when present. `exp == now - leeway` is still valid (jose would reject).
 */
export function checkTime(claims: Claims, nowMs: number): TokenwardenError | undefined {
  const nbf = numericDateMs(claims, 'nbf');
  if (nbf !== undefined && nowMs + LEEWAY_MS < nbf) {
    return new TokenwardenError('ERR_TOKEN_NOT_YET_VALID', 'service account token is not valid yet');
  }
  const exp = numericDateMs(claims, 'exp');
  if (exp !== undefined && nowMs - LEEWAY_MS > exp) {
    return new TokenwardenError('ERR_TOKEN_EXPIRED', 'service account token has expired');
  }
  const iat = numericDateMs(claims, 'iat');
  if (iat !== undefined && nowMs + LEEWAY_MS < iat) {
    return new TokenwardenError(
      'ERR_TOKEN_ISSUED_IN_FUTURE',
      'service account token is issued in the future',
    );
  }
  return undefined;
}

export function tokenAudiences(claims: Claims): string[] {
  const aud = own(claims, 'aud');
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? (aud as string[]) : [];
}

/** What a service-account token says about its subject, after verification. */
export interface ServiceAccountInfo {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly podName?: string;
  readonly podUid?: string;
  readonly nodeName?: string;
  readonly nodeUid?: string;
  readonly credentialId?: string;
  /** The Secret a legacy token came from. */
  readonly legacySecretName?: string;
  /** The objects a bound token names, as claimed, for live mode's lookups (kube checks each named one). */
  readonly boundRefs?: {
    readonly pod?: ObjectRef;
    readonly secret?: ObjectRef;
    readonly node?: ObjectRef;
  };
}

function claimsError(detail: string): TokenwardenError {
  return new TokenwardenError('ERR_TOKEN_CLAIMS', `invalid service account token claims: ${detail}`);
}

export interface ObjectRef {
  readonly name: string;
  readonly uid: string;
}

function objectRef(parent: Claims, key: string, path: string): ObjectRef | undefined | TokenwardenError {
  const v = own(parent, key);
  if (v === undefined) return undefined;
  if (!isObject(v)) return claimsError(`${path} must be an object`);
  const name = own(v as Claims, 'name');
  const uid = own(v as Claims, 'uid');
  if (typeof name !== 'string' || (uid !== undefined && typeof uid !== 'string')) {
    return claimsError(`${path}.name and ${path}.uid must be strings`);
  }
  return { name, uid: (uid as string | undefined) ?? '' };
}

/**
 * The nested `kubernetes.io` claims of a bound (TokenRequest) token. Offline, only their
 * shape can be checked; whether the service account, pod, secret or node still exists
 * with that uid is live mode's job (pkg/serviceaccount/claims.go, `Validate`). Namespace and name are held to
 * kube's SplitUsername rules so no ambiguous username is ever produced.
 */
export function boundServiceAccount(claims: Claims): ServiceAccountInfo | TokenwardenError {
  const k8s = own(claims, 'kubernetes.io');
  if (!isObject(k8s)) return claimsError('kubernetes.io must be an object');
  const priv = k8s as Claims;
  const namespace = own(priv, 'namespace');
  if (typeof namespace !== 'string' || !isValidNamespace(namespace))
    return claimsError('kubernetes.io.namespace is invalid');
  const sa = objectRef(priv, 'serviceaccount', 'kubernetes.io.serviceaccount');
  if (sa instanceof TokenwardenError) return sa;
  if (!sa || !isValidServiceAccountName(sa.name))
    return claimsError('kubernetes.io.serviceaccount.name is invalid');
  if (sa.uid === '') return claimsError('kubernetes.io.serviceaccount.uid is missing');
  const pod = objectRef(priv, 'pod', 'kubernetes.io.pod');
  if (pod instanceof TokenwardenError) return pod;
  const secret = objectRef(priv, 'secret', 'kubernetes.io.secret');
  if (secret instanceof TokenwardenError) return secret;
  const node = objectRef(priv, 'node', 'kubernetes.io.node');
  if (node instanceof TokenwardenError) return node;
  if (secret && (pod || node))
    return claimsError('a token is bound to a secret or to a pod/node, never both');
  const warnafter = own(priv, 'warnafter');
  if (warnafter !== undefined && typeof warnafter !== 'number')
    return claimsError('kubernetes.io.warnafter must be a number');
  const jti = own(claims, 'jti');
  if (jti !== undefined && typeof jti !== 'string') return claimsError('jti must be a string');

  // Built field by field: spreading conditional literals made a throwaway object per field per token.
  const info: Mutable<ServiceAccountInfo> = { namespace, name: sa.name, uid: sa.uid };
  if (pod && pod.name !== '' && pod.uid !== '') {
    info.podName = pod.name;
    info.podUid = pod.uid;
  }
  if (node && node.name !== '') {
    info.nodeName = node.name;
    if (node.uid !== '') info.nodeUid = node.uid;
  }
  if (typeof jti === 'string' && jti !== '') info.credentialId = `JTI=${jti}`;
  const refs: { pod?: ObjectRef; secret?: ObjectRef; node?: ObjectRef } = {};
  if (pod) refs.pod = pod;
  if (secret) refs.secret = secret;
  if (node) refs.node = node;
  info.boundRefs = refs;
  return info;
}

/**
 * The service account a bound token names, read as kube's decoder reads it: an absent
 * `kubernetes.io`, namespace, service account, name or uid is the empty string (Go's zero
 * value). Undefined when a member has a type Go could not decode. kube has no offline
 * check of these claims, so in live mode they go to its lookups as they are.
 */
export function kubeServiceAccountRef(
  claims: Claims,
): { namespace: string; name: string; uid: string } | undefined {
  const k8s = own(claims, 'kubernetes.io') ?? {};
  if (!isObject(k8s)) return undefined;
  const namespace = own(k8s, 'namespace') ?? '';
  const sa = own(k8s, 'serviceaccount') ?? {};
  if (typeof namespace !== 'string' || !isObject(sa)) return undefined;
  const name = own(sa, 'name') ?? '';
  const uid = own(sa, 'uid') ?? '';
  if (typeof name !== 'string' || typeof uid !== 'string') return undefined;
  return { namespace, name, uid };
}

const LEGACY_CLAIM = {
  namespace: 'kubernetes.io/serviceaccount/namespace',
  secretName: 'kubernetes.io/serviceaccount/secret.name',
  serviceAccountName: 'kubernetes.io/serviceaccount/service-account.name',
  serviceAccountUID: 'kubernetes.io/serviceaccount/service-account.uid',
} as const;

/** Kube's legacy validator (legacy.go), the offline part, with its messages and order. */
export function legacyServiceAccount(claims: Claims): ServiceAccountInfo | TokenwardenError {
  const str = (key: string): string => {
    const v = own(claims, key);
    return typeof v === 'string' ? v : '';
  };
  const sub = str('sub');
  const namespace = str(LEGACY_CLAIM.namespace);
  const secretName = str(LEGACY_CLAIM.secretName);
  const name = str(LEGACY_CLAIM.serviceAccountName);
  const uid = str(LEGACY_CLAIM.serviceAccountUID);
  const missing = (what: string): TokenwardenError =>
    new TokenwardenError('ERR_TOKEN_CLAIMS', `${what} claim is missing`);
  if (sub === '') return missing('sub');
  if (namespace === '') return missing('namespace');
  if (secretName === '') return missing('secretName');
  if (name === '') return missing('serviceAccountName');
  if (uid === '') return missing('serviceAccountUID');
  const split = splitServiceAccountUsername(sub);
  if (!split || split.namespace !== namespace || split.name !== name) {
    return new TokenwardenError('ERR_TOKEN_CLAIMS', 'sub claim is invalid');
  }
  return { namespace, name, uid, legacySecretName: secretName };
}

/**
 * The groups of a namespace's service accounts, one frozen list per namespace shared by every
 * answer (and so by every cached entry) of that namespace; emptied when full, so that
 * varied namespaces cost a new list, never memory.
 */
const groupsByNamespace = new Map<string, readonly string[]>();
const MAX_REMEMBERED_NAMESPACES = 10_000;

function namespaceGroups(namespace: string): readonly string[] {
  let groups = groupsByNamespace.get(namespace);
  if (groups === undefined) {
    if (groupsByNamespace.size >= MAX_REMEMBERED_NAMESPACES) groupsByNamespace.clear();
    groups = Object.freeze(serviceAccountGroups(namespace));
    groupsByNamespace.set(namespace, groups);
  }
  return groups;
}

/** Kube's `ServiceAccountInfo.UserInfo()`; `system:authenticated` is the group adder's job. */
export function serviceAccountUser(info: ServiceAccountInfo): UserInfo {
  const extra: Record<string, string[]> = {};
  let extras = false;
  if (info.podName !== undefined && info.podUid !== undefined) {
    extra[EXTRA_POD_NAME] = [info.podName];
    extra[EXTRA_POD_UID] = [info.podUid];
    extras = true;
  }
  if (info.nodeName !== undefined) {
    extra[EXTRA_NODE_NAME] = [info.nodeName];
    if (info.nodeUid !== undefined) extra[EXTRA_NODE_UID] = [info.nodeUid];
    extras = true;
  }
  if (info.credentialId !== undefined) {
    extra[EXTRA_CREDENTIAL_ID] = [info.credentialId];
    extras = true;
  }
  // Concatenated, not joined into a flat string: a join per token cost more than the few
  // dozen bytes the chain of parts adds to a cached entry (docs/benchmarks.md).
  const username = serviceAccountUsername(info.namespace, info.name);
  const groups = namespaceGroups(info.namespace);
  // One literal either way: a member added later would cost every cached answer a property store.
  return extras ? { username, uid: info.uid, groups, extra } : { username, uid: info.uid, groups };
}
