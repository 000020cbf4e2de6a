import type { Clock } from '../clock.js';
import { TokenwardenError } from '../errors.js';
import {
  failure,
  headerValues,
  NO_OPINION,
  type AuthnRequest,
  type AuthnResult,
  type RequestAuthenticator,
} from './authenticator.js';
import type { Certificate } from '../x509/certificate.js';
import { withVerifiedCertificate } from './x509.js';

export interface RequestHeaderOptions {
  /** The `--requestheader-client-ca-file` bundle, read at call time (reloads take effect at once). */
  readonly roots: () => readonly Certificate[];
  /** `--requestheader-allowed-names`: CNs a proxy certificate may carry; empty allows any verified one. */
  readonly allowedNames: readonly string[];
  readonly usernameHeaders: readonly string[];
  readonly uidHeaders: readonly string[];
  readonly groupHeaders: readonly string[];
  readonly extraHeaderPrefixes: readonly string[];
  readonly clock: Clock;
}

/** The request-header names kube-aggregator and client-go send; always stripped from untrusted callers. */
export const STANDARD_IDENTITY_HEADERS = ['x-remote-user', 'x-remote-uid', 'x-remote-group'] as const;
export const STANDARD_EXTRA_PREFIX = 'x-remote-extra-';

/** Go's `url.PathUnescape`, falling back to the raw key when the escape is malformed, as kube does. */
function pathUnescape(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function firstNonEmpty(request: AuthnRequest, names: readonly string[]): string | undefined {
  for (const n of names) {
    for (const v of headerValues(request, n)) if (v.length > 0) return v;
  }
  return undefined;
}

/**
 * Reads the identity a trusted front proxy put in the headers (kube's
 * `requestHeaderAuthRequestHandler`): user = first non-empty value of the user headers in
 * order (none → not mine); uid likewise; groups = every non-empty line of every group
 * header, never comma-split; extra = every header whose name starts with a prefix
 * (case-insensitive), key = the rest of the name lower-cased then path-unescaped.
 * Call only for a request whose proxy certificate has been verified.
 */
export function identityFromHeaders(
  request: AuthnRequest,
  options: Pick<
    RequestHeaderOptions,
    'usernameHeaders' | 'uidHeaders' | 'groupHeaders' | 'extraHeaderPrefixes'
  >,
): { username: string; uid?: string; groups: string[]; extra: Record<string, string[]> } | undefined {
  const lower = (names: readonly string[]) => names.map((n) => n.toLowerCase());
  const username = firstNonEmpty(request, lower(options.usernameHeaders));
  if (username === undefined) return undefined;
  const uid = firstNonEmpty(request, lower(options.uidHeaders));
  const groups: string[] = [];
  for (const n of lower(options.groupHeaders))
    for (const v of headerValues(request, n)) if (v.length > 0) groups.push(v);
  // A Map, not an object, while collecting: a key such as `__proto__` is data, never a prototype.
  const extra = new Map<string, string[]>();
  const prefixes = lower(options.extraHeaderPrefixes);
  for (const name of Object.keys(request.headers)) {
    const lowerName = name.toLowerCase();
    for (const prefix of prefixes) {
      if (!lowerName.startsWith(prefix)) continue;
      const key = pathUnescape(lowerName.slice(prefix.length));
      const list = extra.get(key) ?? [];
      list.push(...headerValues(request, name));
      extra.set(key, list);
    }
  }
  return { username, ...(uid === undefined ? {} : { uid }), groups, extra: Object.fromEntries(extra) };
}

/**
 * Headers that must never pass from an untrusted caller to anything downstream: the
 * configured ones and kube's standard `X-Remote-*` set (kubernetes/kubernetes#119631:
 * stripping only the configured names was an audit finding). Lower-case name in, verdict out.
 */
export function isIdentityHeader(
  lowerCaseName: string,
  options: Pick<
    RequestHeaderOptions,
    'usernameHeaders' | 'uidHeaders' | 'groupHeaders' | 'extraHeaderPrefixes'
  >,
): boolean {
  const exact = [
    ...STANDARD_IDENTITY_HEADERS,
    ...options.usernameHeaders,
    ...options.uidHeaders,
    ...options.groupHeaders,
  ];
  if (exact.some((h) => h.toLowerCase() === lowerCaseName)) return true;
  return [STANDARD_EXTRA_PREFIX, ...options.extraHeaderPrefixes].some((p) =>
    lowerCaseName.startsWith(p.toLowerCase()),
  );
}

/**
 * kube's request-header authenticator behind its x509 verifier: headers count only when
 * the client certificate verifies against the request-header CA (client-auth usage) and,
 * with allowed names, its CN is listed. No certificate → not mine; an unverified one or
 * a CN not listed → an error that does not stop the union (the same certificate may
 * still authenticate as itself through `--client-ca-file`). A caller that is not trusted
 * never gets its headers read; the caller strips them (see isIdentityHeader).
 */
export function requestHeaderAuthenticator(options: RequestHeaderOptions): RequestAuthenticator {
  return withVerifiedCertificate(options, (leaf, request): AuthnResult => {
    if (options.allowedNames.length > 0) {
      const cn = leaf.subject.commonName;
      if (!options.allowedNames.includes(cn)) {
        return failure(
          new TokenwardenError('ERR_TOKEN_INVALID', `x509: subject with cn=${cn} is not in the allowed list`),
        );
      }
    }
    const identity = identityFromHeaders(request, options);
    if (!identity) return NO_OPINION;
    return { outcome: 'authenticated', user: identity, audiences: [] };
  });
}
