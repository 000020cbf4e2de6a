import type { Logger } from 'pino';
import type { AuthnRequest, RequestAuthenticator } from '../authn/authenticator.js';
import type { Attributes, Authorizer } from '../authz/authorizer.js';
import type { UserInfo } from '../user.js';
import type { AuthorizedRequest } from './authorization.js';
import { impersonate } from './impersonation.js';
import { parseRequestTarget } from './paths.js';

/** A request as the gate sees it, from the proxy or from `/check` (the original request). */
export interface GateRequest extends AuthnRequest {
  readonly method: string;
  /** The origin-form request target: path and query, as sent. */
  readonly target: string;
}

/** Why a request does not pass; `api/outcomes.ts` `denied()` turns it into status, headers and body. */
export type Denial =
  | { readonly kind: 'bad-request'; readonly message: string }
  | { readonly kind: 'unauthenticated'; readonly tokenGiven: boolean }
  | { readonly kind: 'forbidden'; readonly message: string }
  | { readonly kind: 'error'; readonly message: string };

export type GateResult =
  /** `user` is absent for an ignored path: passed without authentication. */
  | { readonly outcome: 'pass'; readonly user?: UserInfo }
  | { readonly outcome: 'deny'; readonly denial: Denial };

export interface GateOptions {
  /** The request chain (client certificate, bearer token through the cache), audiences bound. */
  readonly authenticator: RequestAuthenticator;
  /** Decides impersonation and per-request authorization (system:masters, RBAC, static rules). */
  readonly authorizer: Authorizer;
  /** Per-request authorization (kube-rbac-proxy's attributes); absent: authentication alone. */
  readonly attributes?: (user: UserInfo, request: AuthorizedRequest) => Attributes[];
  /** `--allow-*` lists; absent: every authenticated user. */
  readonly allow?: (user: UserInfo) => boolean;
  /** `--ignore-path`: passed without authentication. */
  readonly ignore?: (path: string) => boolean;
  readonly logger: Logger;
}

const deny = (denial: Denial): GateResult => ({ outcome: 'deny', denial });

/** kube-rbac-proxy's 403 text, which its users' alerts and runbooks grep for. */
function forbidden(user: UserInfo, a: Attributes): string {
  return `Forbidden (user=${user.username}, verb=${a.verb}, resource=${a.resource}, subresource=${a.subresource})`;
}

/**
 * The sidecar's decision for one request, shared by the proxy and `/check`, in the order
 * kube-apiserver applies its filters: a canonical path (400), ignore paths, authentication
 * (401), impersonation (400/403), the allow-lists (403), per-request authorization (403,
 * 400 for a rewrite with no value, 500 for an authorizer error). Nothing here writes to the
 * network; identity headers are the caller's job.
 */
export function createGate(options: GateOptions): (request: GateRequest) => Promise<GateResult> {
  const { logger } = options;
  return async function gate(request) {
    const target = parseRequestTarget(request.target);
    if (!target) {
      logger.info({ method: request.method, reason: 'non-canonical-path' }, 'request refused');
      return deny({ kind: 'bad-request', message: 'the request path is not canonical' });
    }
    if (options.ignore?.(target.path)) return { outcome: 'pass' };

    const authn = await options.authenticator.authenticateRequest(request);
    if (authn.outcome !== 'authenticated') {
      const tokenGiven = Object.hasOwn(request.headers, 'authorization');
      logger.info(
        { path: target.path, reason: authn.outcome === 'error' ? authn.error.code : 'no-credential' },
        'request not authenticated',
      );
      return deny({ kind: 'unauthenticated', tokenGiven });
    }
    let user = authn.user;

    const impersonation = await impersonate(request.headers, user, options.authorizer);
    switch (impersonation.outcome) {
      case 'bad-request':
        return deny({ kind: 'bad-request', message: impersonation.message });
      case 'forbidden':
        logger.info({ path: target.path, user: user.username }, 'impersonation refused');
        return deny({ kind: 'forbidden', message: impersonation.message });
      case 'impersonated':
        logger.info({ user: user.username, as: impersonation.user.username }, 'impersonating');
        user = impersonation.user;
        break;
      case 'none':
        break;
    }

    if (options.allow && !options.allow(user)) {
      logger.info({ path: target.path, user: user.username }, 'user not in the allow-lists');
      return deny({
        kind: 'forbidden',
        message: `Forbidden (user=${user.username}): not an allowed service account, namespace or group`,
      });
    }

    if (options.attributes) {
      const all = options.attributes(user, {
        method: request.method,
        path: target.path,
        rawQuery: target.rawQuery,
        headers: request.headers,
      });
      if (all.length === 0) {
        return deny({
          kind: 'bad-request',
          message: 'Bad Request. The request or configuration is malformed.',
        });
      }
      for (const attributes of all) {
        const result = await options.authorizer.authorize(attributes);
        if (result.error !== undefined && result.decision !== 'allow') {
          logger.error({ user: user.username, verb: attributes.verb }, 'authorization error');
          return deny({ kind: 'error', message: 'authorization error' });
        }
        if (result.decision !== 'allow') {
          logger.info(
            {
              user: user.username,
              verb: attributes.verb,
              resource: attributes.resource,
              path: attributes.path,
            },
            'request forbidden',
          );
          return deny({ kind: 'forbidden', message: forbidden(user, attributes) });
        }
      }
    }
    return { outcome: 'pass', user };
  };
}
