import type { AuthnResult } from '../authn/authenticator.js';
import { bearerCredential, INVALID_BEARER_TOKEN } from '../authn/bearer.js';
import { aggregateMessage } from '../errors.js';
import { isObject } from '../json.js';
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

/**
 * `JSON.stringify(encodeTokenReview(apiVersion, result, requested))`, the same text, from a
 * tree that shares the result's lists and `extra` instead of copying them: an uncached answer
 * is stringified once and never asked again, and the copies and the spread per optional field
 * made a third of its cost (docs/benchmarks.md). Stringifying a list or `extra` writes what
 * stringifying its copy writes, as long as every `extra` value is an array (`[...v]` of
 * anything else is not `v`): any other value takes `encodeTokenReview`'s own path.
 */
export function encodeTokenReviewText(
  apiVersion: string,
  result: AuthnResult,
  requested: readonly string[],
): string {
  if (result.outcome !== 'authenticated' || !Array.isArray(result.user.groups))
    return JSON.stringify(encodeTokenReview(apiVersion, result, requested));
  const { user } = result;
  const shown: { username: string; uid?: string; groups?: readonly string[]; extra?: UserInfo['extra'] } = {
    username: user.username,
  };
  if (user.uid) shown.uid = user.uid;
  if (user.groups.length > 0) shown.groups = user.groups;
  for (const key in user.extra) {
    if (!Object.hasOwn(user.extra, key)) continue;
    if (!Array.isArray(user.extra[key]))
      return JSON.stringify(encodeTokenReview(apiVersion, result, requested));
    shown.extra = user.extra;
  }
  return JSON.stringify({
    kind: 'TokenReview',
    apiVersion,
    metadata: {},
    status: {
      authenticated: true,
      user: shown,
      audiences: result.audiences.length > 0 ? result.audiences : requested,
    },
  });
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
