import type { AuthnResult, AuthnSuccess } from '../authn/authenticator.js';
import { bearerCredential, INVALID_BEARER_TOKEN } from '../authn/bearer.js';
import { aggregateMessage } from '../errors.js';
import { isObject, jsonString } from '../json.js';
import type { UserInfo } from '../user.js';
import {
  AUTHN_GROUP,
  statusOf,
  type ApiVersionName,
  type Status,
  type TokenReviewResponse,
} from './types.js';

export interface TokenReviewInput {
  /** The apiVersion to answer with: the request's own, else the path's. */
  readonly apiVersion: string;
  /** Undefined when `spec.token` carries no credential under kube's bearer parsing. */
  readonly token: string | undefined;
  /** `spec.audiences`; empty when the request names none. */
  readonly audiences: readonly string[];
}

export type DecodeResult = { ok: true; input: TokenReviewInput } | { ok: false; status: Status };

const bad = (message: string): DecodeResult => ({ ok: false, status: statusOf(400, 'BadRequest', message) });

const API_VERSIONS: Readonly<Record<ApiVersionName, string>> = {
  v1: `${AUTHN_GROUP}/v1`,
  v1beta1: `${AUTHN_GROUP}/v1beta1`,
};

/**
 * A TokenReview request body (already JSON-parsed) → what to authenticate. Missing
 * `apiVersion`/`kind` are taken from the path, as kube-apiserver does (Vault sends only
 * `spec`); a wrong one is a 400. `metadata` and `status` are ignored. Messages are
 * fixed texts: nothing from the body is echoed.
 */
export function decodeTokenReview(body: unknown, pathVersion: ApiVersionName): DecodeResult {
  if (!isObject(body)) return bad('the request body must be a TokenReview object');
  const expected = API_VERSIONS[pathVersion];
  const apiVersion = body.apiVersion;
  if (apiVersion !== undefined && apiVersion !== expected) {
    return bad(
      typeof apiVersion === 'string' && /^[a-z0-9./-]{1,64}$/.test(apiVersion)
        ? `the API version in the data (${apiVersion}) does not match the expected API version (${expected})`
        : `the API version in the data does not match the expected API version (${expected})`,
    );
  }
  if (body.kind !== undefined && body.kind !== 'TokenReview') {
    return bad('the kind in the data does not match the expected kind (TokenReview)');
  }
  const spec = body.spec;
  if (spec !== undefined && spec !== null && !isObject(spec)) return bad('spec must be an object');
  const token = spec?.token;
  if (token !== undefined && token !== null && typeof token !== 'string')
    return bad('spec.token must be a string');
  if (typeof token !== 'string' || token.length === 0)
    return bad('token is required for TokenReview in authentication');
  const audiences = spec?.audiences;
  if (
    audiences !== undefined &&
    audiences !== null &&
    !(Array.isArray(audiences) && audiences.every((a) => typeof a === 'string'))
  ) {
    return bad('spec.audiences must be a list of strings');
  }
  return {
    ok: true,
    input: {
      apiVersion: expected,
      // Kube reviews the token as the header `Authorization: Bearer <token>` would carry it.
      token: bearerCredential(token),
      audiences: (audiences as string[] | null | undefined) ?? [],
    },
  };
}

/** `JSON.stringify(list)` for a list of strings; undefined for a list holding anything else (or a hole). */
function jsonStrings(list: readonly unknown[]): string | undefined {
  if (!Array.isArray(list)) return undefined;
  let out = '[';
  for (let i = 0; i < list.length; i++) {
    const item: unknown = list[i];
    if (typeof item !== 'string') return undefined;
    out += i === 0 ? jsonString(item) : `,${jsonString(item)}`;
  }
  return `${out}]`;
}

/** The user's members after `username`, as JSON.stringify writes them; undefined where a value is not a string or a list of strings. */
function userMembers(user: UserInfo): string | undefined {
  let out = '';
  if (user.uid) {
    if (typeof user.uid !== 'string') return undefined;
    out += `,"uid":${jsonString(user.uid)}`;
  }
  if (user.groups.length > 0) {
    const groups = jsonStrings(user.groups);
    if (groups === undefined) return undefined;
    out += `,"groups":${groups}`;
  }
  let extra = '';
  // for…in visits own keys in the order JSON.stringify writes them (integer-like keys first).
  for (const key in user.extra) {
    if (!Object.hasOwn(user.extra, key)) continue;
    const values = jsonStrings(user.extra[key]!);
    if (values === undefined) return undefined;
    extra += `${extra === '' ? '' : ','}${jsonString(key)}:${values}`;
  }
  return extra === '' ? out : `${out},"extra":{${extra}}`;
}

/**
 * `JSON.stringify(encodeTokenReview(apiVersion, result, requested))`, the same text, written
 * piece by piece: an uncached answer is encoded once and never asked again, and V8's
 * serializer walking a tree of the answer cost more than joining its strings, each tested
 * for a character JSON escapes (docs/benchmarks.md). A value of any other type than the
 * types say takes `encodeTokenReview`'s own path.
 */
export function encodeTokenReviewText(
  apiVersion: string,
  result: AuthnResult,
  requested: readonly string[],
): string {
  const text = result.outcome === 'authenticated' ? successText(apiVersion, result, requested) : undefined;
  return text ?? JSON.stringify(encodeTokenReview(apiVersion, result, requested));
}

function successText(
  apiVersion: string,
  result: AuthnSuccess,
  requested: readonly string[],
): string | undefined {
  const { user } = result;
  if (typeof user.username !== 'string' || !Array.isArray(user.groups)) return undefined;
  const members = userMembers(user);
  const audiences = jsonStrings(result.audiences.length > 0 ? result.audiences : requested);
  if (members === undefined || audiences === undefined) return undefined;
  return (
    `{"kind":"TokenReview","apiVersion":${jsonString(apiVersion)},"metadata":{},` +
    `"status":{"authenticated":true,"user":{"username":${jsonString(user.username)}${members}},` +
    `"audiences":${audiences}}}`
  );
}

/**
 * The review's answer. `spec` is never echoed (it holds the token). A success always
 * lists `status.audiences` (Vault refuses a login without it); a failure is
 * `authenticated: false` with `user: {}` and a short error.
 */
export function encodeTokenReview(
  apiVersion: string,
  result: AuthnResult,
  requested: readonly string[],
): TokenReviewResponse {
  if (result.outcome === 'authenticated') {
    const { user } = result;
    return {
      kind: 'TokenReview',
      apiVersion,
      metadata: {},
      status: {
        authenticated: true,
        user: {
          username: user.username,
          ...(user.uid ? { uid: user.uid } : {}),
          ...(user.groups.length > 0 ? { groups: [...user.groups] } : {}),
          ...(user.extra && Object.keys(user.extra).length > 0
            ? { extra: Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]])) }
            : {}),
        },
        audiences: [...(result.audiences.length > 0 ? result.audiences : requested)],
      },
    };
  }
  return {
    kind: 'TokenReview',
    apiVersion,
    metadata: {},
    status: {
      authenticated: false,
      user: {},
      // kube-apiserver (1.37) reports a rejected token as the aggregate of the bearer
      // authenticator's own error and the token authenticators' errors.
      error:
        result.outcome === 'error'
          ? aggregateMessage([INVALID_BEARER_TOKEN, ...result.error.parts])
          : INVALID_BEARER_TOKEN,
    },
  };
}
