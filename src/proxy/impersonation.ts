import { headerValues } from '../authn/authenticator.js';
import type { Attributes, Authorizer } from '../authz/authorizer.js';
import { resourceAttributes } from '../authz/attributes.js';
import { goQuote } from '../go-quote.js';
import { pathUnescape } from './paths.js';
import {
  ALL_AUTHENTICATED,
  ALL_UNAUTHENTICATED,
  ANONYMOUS,
  serviceAccountGroups,
  serviceAccountUsername,
  splitServiceAccountUsername,
  type UserInfo,
} from '../user.js';

const EXTRA_PREFIX = 'impersonate-extra-';

export type ImpersonationResult =
  | { readonly outcome: 'none' }
  | { readonly outcome: 'impersonated'; readonly user: UserInfo }
  | { readonly outcome: 'bad-request'; readonly message: string }
  | { readonly outcome: 'forbidden'; readonly message: string };

const NONE: ImpersonationResult = Object.freeze({ outcome: 'none' });

/**
 * Whether a request asks for impersonation at all (any `Impersonate-*` line; names lower-case).
 * Most do not, and for them the gate skips `impersonate` and its await: its answer would be
 * `none`.
 */
export function asksImpersonation(headers: Readonly<Record<string, unknown>>): boolean {
  for (const name in headers) if (name.startsWith('impersonate-')) return true;
  return false;
}

export const NO_IMPERSONATION = NONE;

/** One `impersonate` check: what is asked for, and the resource kube checks it against. */
interface Request {
  readonly kind: 'ServiceAccount' | 'User' | 'Group' | 'UserExtra' | 'UID';
  readonly attributes: Omit<Attributes, 'user'>;
}

function check(
  kind: Request['kind'],
  fields: { apiGroup?: string; resource: string; subresource?: string; namespace?: string; name: string },
): Request {
  const attributes = resourceAttributes(
    { username: '', groups: [] },
    {
      verb: 'impersonate',
      namespace: fields.namespace ?? '',
      apiGroup: fields.apiGroup ?? '',
      apiVersion: 'v1',
      resource: fields.resource,
      subresource: fields.subresource ?? '',
      name: fields.name,
    },
  );
  return { kind, attributes };
}

/**
 * kube's `responsewriters.Forbidden` text for an impersonation check:
 * `<resource>[.<group>] "<name>" is forbidden: User "<caller>" cannot impersonate resource
 * "<resource>[/<sub>]" in API group "<group>" at the cluster scope` (or `in the namespace`),
 * with `: <reason>` when the authorizer gave one.
 */
function forbiddenMessage(caller: string, a: Omit<Attributes, 'user'>, reason: string): string {
  const groupResource = a.apiGroup === '' ? a.resource : `${a.resource}.${a.apiGroup}`;
  const resource = a.subresource === '' ? a.resource : `${a.resource}/${a.subresource}`;
  const scope = a.namespace === '' ? 'at the cluster scope' : `in the namespace ${goQuote(a.namespace)}`;
  const base = `User ${goQuote(caller)} cannot impersonate resource ${goQuote(resource)} in API group ${goQuote(a.apiGroup)} ${scope}`;
  return `${groupResource} ${goQuote(a.name)} is forbidden: ${base}${reason === '' ? '' : `: ${reason}`}`;
}

/**
 * kube-apiserver's impersonation filter (`AS/pkg/endpoints/filters/impersonation/impersonation.go`,
 * legacy mode) over a request's headers (lower-case names, every line its own value):
 * `Impersonate-User` (first value; `system:serviceaccount:<ns>:<name>` is checked as that
 * service account), each `Impersonate-Group` line, each `Impersonate-Extra-<key>` value
 * (key lower-cased then unescaped) and `Impersonate-Uid`. The requestor needs `impersonate`
 * allowed on every one of them; an error, deny or no opinion is 403. Group, extra or uid
 * without a user is 400. The resulting identity comes from the headers alone.
 */
export async function impersonate(
  headers: Readonly<Record<string, readonly string[] | undefined>>,
  requestor: UserInfo,
  authorizer: Authorizer,
): Promise<ImpersonationResult> {
  const values = (name: string): readonly string[] => headerValues({ headers }, name);
  const requestedUser = values('impersonate-user')[0] ?? '';
  const requestedUid = values('impersonate-uid')[0] ?? '';
  const groupLines = values('impersonate-group');
  const extras: [key: string, value: string][] = [];
  for (const name of Object.keys(headers)) {
    if (!name.startsWith(EXTRA_PREFIX)) continue;
    // kube's unescapeExtraKey: the lower-cased suffix, path-unescaped, raw when that fails.
    const raw = name.slice(EXTRA_PREFIX.length).toLowerCase();
    const key = pathUnescape(raw) ?? raw;
    for (const value of values(name)) extras.push([key, value]);
  }
  if (requestedUser === '') {
    if (groupLines.length > 0 || extras.length > 0 || requestedUid !== '') {
      return {
        outcome: 'bad-request',
        message: 'requested impersonation of groups, extra or uid without impersonating a user',
      };
    }
    return NONE;
  }

  const sa = splitServiceAccountUsername(requestedUser);
  // The order kube 1.36 checks fields in: user, uid, groups, extra.
  const requests: Request[] = [
    sa
      ? check('ServiceAccount', { resource: 'serviceaccounts', namespace: sa.namespace, name: sa.name })
      : check('User', { resource: 'users', name: requestedUser }),
    ...(requestedUid === ''
      ? []
      : [check('UID', { apiGroup: 'authentication.k8s.io', resource: 'uids', name: requestedUid })]),
    ...groupLines.map((g) => check('Group', { resource: 'groups', name: g })),
    ...extras.map(([key, value]) =>
      check('UserExtra', {
        apiGroup: 'authentication.k8s.io',
        resource: 'userextras',
        subresource: key,
        name: value,
      }),
    ),
  ];
  for (const request of requests) {
    const result = await authorizer.authorize({ ...request.attributes, user: requestor });
    if (result.decision !== 'allow') {
      return {
        outcome: 'forbidden',
        message: forbiddenMessage(requestor.username, request.attributes, result.reason),
      };
    }
  }

  const username = sa ? serviceAccountUsername(sa.namespace, sa.name) : requestedUser;
  let groups = [...groupLines];
  if (sa && groupLines.length === 0) groups = serviceAccountGroups(sa.namespace);
  if (username === ANONYMOUS) {
    if (!groups.includes(ALL_UNAUTHENTICATED)) groups.push(ALL_UNAUTHENTICATED);
  } else if (!groups.includes(ALL_AUTHENTICATED) && !groups.includes(ALL_UNAUTHENTICATED)) {
    groups.push(ALL_AUTHENTICATED);
  }
  const extra: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const [key, value] of extras) (extra[key] ??= []).push(value);
  return {
    outcome: 'impersonated',
    user: {
      username,
      groups,
      ...(requestedUid === '' ? {} : { uid: requestedUid }),
      ...(extras.length > 0 ? { extra } : {}),
    },
  };
}
