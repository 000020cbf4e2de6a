import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { getPath, tryDecodeURIComponent } from 'hono/utils/url';
import type { AccessReviewKind } from '../api/subjectaccessreview.js';
import type { ApiVersionName } from '../api/types.js';

export type ReviewKind = 'TokenReview' | AccessReviewKind;

export interface ReviewResource {
  /** `authentication.k8s.io` or `authorization.k8s.io`. */
  readonly group: string;
  /** `tokenreviews`, `subjectaccessreviews`, … */
  readonly resource: string;
  readonly version: ApiVersionName;
  /** Served under `namespaces/{namespace}/` (a LocalSubjectAccessReview): `create` is asked in that namespace. */
  readonly namespaced?: boolean;
}

export interface ReviewRoute {
  readonly kind: ReviewKind;
  readonly target: ReviewResource;
  /** The route's name on the request metrics: its path, `:namespace` standing for the namespace. */
  readonly pattern: string;
}

export const REVIEW_RESOURCE: Readonly<Record<AccessReviewKind, string>> = {
  SubjectAccessReview: 'subjectaccessreviews',
  LocalSubjectAccessReview: 'localsubjectaccessreviews',
  SelfSubjectAccessReview: 'selfsubjectaccessreviews',
};

function route(kind: ReviewKind, target: ReviewResource): ReviewRoute {
  const namespaces = target.namespaced ? 'namespaces/:namespace/' : '';
  return { kind, target, pattern: `/apis/${target.group}/${target.version}/${namespaces}${target.resource}` };
}

/** The review endpoints served: TokenReview always, the access reviews when there is an authorizer. */
export function reviewRoutes(accessReviews: boolean): ReviewRoute[] {
  const routes: ReviewRoute[] = [];
  for (const version of ['v1', 'v1beta1'] as const) {
    routes.push(route('TokenReview', { group: 'authentication.k8s.io', resource: 'tokenreviews', version }));
  }
  if (!accessReviews) return routes;
  for (const version of ['v1', 'v1beta1'] as const) {
    for (const kind of [
      'SubjectAccessReview',
      'LocalSubjectAccessReview',
      'SelfSubjectAccessReview',
    ] as const) {
      // kube-apiserver serves authorization.k8s.io/v1beta1 no more (since 1.22); tokenwarden keeps its
      // SubjectAccessReview for webhook clients configured with --authorization-webhook-version=v1beta1,
      // and serves the two reviews only clients send as kube does: v1 alone.
      if (version === 'v1beta1' && kind !== 'SubjectAccessReview') continue;
      routes.push(
        route(kind, {
          group: 'authorization.k8s.io',
          resource: REVIEW_RESOURCE[kind],
          version,
          ...(kind === 'LocalSubjectAccessReview' ? { namespaced: true } : {}),
        }),
      );
    }
  }
  return routes;
}

export interface MatchedReview {
  readonly route: ReviewRoute;
  /** The path as routed (percent-decoded as the rest of the app decodes it). */
  readonly path: string;
  /** A LocalSubjectAccessReview's namespace, decoded; else empty. */
  readonly namespace: string;
}

/**
 * A request target made only of characters the URL parser leaves as they are, with no
 * percent-escape, backslash, fragment or dot segment: its path is the text before `?`.
 */
const PLAIN_TARGET = /^\/(?:[\w\-~!$&'()*+,;=:@]|\.(?!\.?(?:[/?]|$))|\/(?!\.))*(?:\?|$)/;

/**
 * The host names seen and whether each is valid, so that the URL parser checks a client's
 * Host once rather than on every request; bounded, since clients choose it.
 */
const hostChecks = new Map<string, boolean>();
const MAX_HOST_CHECKS = 256;

/**
 * The Host last found valid. Every request brings its Host as a new string, and a map
 * lookup hashes all of it; a client names one Host on every request, so comparing with the
 * last valid one answers nearly every request without the map (docs/benchmarks.md).
 */
let lastValidHost: string | undefined;

/** A Host header the rest of the app accepts: one URL parsing takes whole as the host name and port. */
function validHost(host: string | undefined): host is string {
  if (host === undefined || host === '') return false;
  if (host === lastValidHost) return true;
  let valid = hostChecks.get(host);
  if (valid === undefined) {
    valid = false;
    try {
      const { hostname } = new URL(`https://${host}/`);
      valid = hostname.length === host.length || hostname === host.replace(/:\d+$/, '');
    } catch {
      // Not a host at all.
    }
    if (hostChecks.size >= MAX_HOST_CHECKS) hostChecks.clear();
    hostChecks.set(host, valid);
  }
  if (valid) lastValidHost = host;
  return valid;
}

/**
 * The path a request is routed by, exactly as the hono app (through @hono/node-server)
 * routes it: the target resolved as a URL (dot segments removed, the Host header checked,
 * an absolute-form target taken as is) and percent-decoded as hono's `getPath` decodes it;
 * the query is never part of it. Undefined for a request the app refuses before routing
 * (a backslash in the path, no or a malformed Host header), which it answers itself.
 */
export function routedPath(incoming: IncomingMessage): string | undefined {
  const target = incoming.url ?? '';
  const host = incoming.headers.host;
  const plain = PLAIN_TARGET.exec(target);
  if (plain) {
    if (!validHost(host)) return undefined;
    const end = plain[0].length;
    return target.charCodeAt(end - 1) === 0x3f ? target.slice(0, end - 1) : target;
  }
  let url: URL;
  try {
    const absolute = target[0] !== '/' && (target.startsWith('http://') || target.startsWith('https://'));
    if (!absolute && !validHost(host)) return undefined;
    const backslash = target.indexOf('\\');
    if (backslash !== -1) {
      const query = target.indexOf('?');
      if (query === -1 || backslash < query) return undefined;
    }
    const scheme = (incoming.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http';
    url = new URL(absolute ? target : `${scheme}://${host}${target}`);
  } catch {
    return undefined;
  }
  return getPath({ url: url.href } as Request);
}

/** Matches routed paths to review routes: exactly, and for the namespaced one by its namespace segment. */
export class ReviewPaths {
  /**
   * Each route served at one path, matched: the same object for every request to it. A list,
   * not a map: a request target is a new string each time, which a map lookup hashes whole
   * before comparing it, where a comparison with each of a handful of paths stops at the
   * first length or character that differs (docs/benchmarks.md).
   */
  private readonly exact: MatchedReview[] = [];
  private readonly namespaced: ReviewRoute | undefined;
  private readonly namespacedPrefix: string;
  private readonly namespacedSuffix: string;

  constructor(routes: readonly ReviewRoute[]) {
    let namespaced: ReviewRoute | undefined;
    for (const r of routes) {
      if (r.target.namespaced) namespaced = r;
      else {
        this.exact.push(Object.freeze({ route: r, path: r.pattern, namespace: '' }));
      }
    }
    this.namespaced = namespaced;
    const t = namespaced?.target;
    this.namespacedPrefix = t ? `/apis/${t.group}/${t.version}/namespaces/` : '';
    this.namespacedSuffix = t ? `/${t.resource}` : '';
  }

  /**
   * The review a request is for, routed as the app routes it (`routedPath`), or undefined.
   * A target that is a review path itself, as every client sends it, is plain: only its Host
   * is left to check.
   */
  route(incoming: IncomingMessage): MatchedReview | undefined {
    const exact = this.exactly(incoming.url);
    if (exact !== undefined) return validHost(incoming.headers.host) ? exact : undefined;
    const path = routedPath(incoming);
    return path === undefined ? undefined : this.match(path);
  }

  match(path: string): MatchedReview | undefined {
    const exact = this.exactly(path);
    if (exact) return exact;
    const { namespaced, namespacedPrefix: prefix, namespacedSuffix: suffix } = this;
    if (!namespaced || !path.startsWith(prefix) || !path.endsWith(suffix)) return undefined;
    const segment = path.slice(prefix.length, path.length - suffix.length);
    // One non-empty segment, as a `:namespace` route parameter matches; decoded as hono decodes one.
    if (segment === '' || segment.includes('/')) return undefined;
    return { route: namespaced, path, namespace: tryDecodeURIComponent(segment) };
  }

  private exactly(path: string | undefined): MatchedReview | undefined {
    for (const exact of this.exact) if (exact.path === path) return exact;
    return undefined;
  }
}
