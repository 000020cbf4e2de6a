import type { Logger } from 'pino';
import type { AuthnRequest, RequestAuthenticator } from '../authn/authenticator.js';
import type { Attributes, Authorizer } from '../authz/authorizer.js';
import { ProxyAccessLog } from '../observe/access-log.js';
import type { UserInfo } from '../user.js';
import type { AuthorizedRequest } from './authorization.js';
import { asksImpersonation, impersonate, NO_IMPERSONATION } from './impersonation.js';
import { parseRequestTarget } from './paths.js';

/** A request as the gate sees it, from the proxy or from `/check` (the original request). */
export interface GateRequest extends AuthnRequest {
  readonly method: string;
  /** The origin-form request target: path and query, as sent. */
  readonly target: string;
  /** For the access line: the request id (echoed to the client) and the peer's address. */
  readonly requestId?: string;
  readonly peer?: string;
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

/** What the access line says beyond the decision: who, asking what, and a stable reason code. */
interface AccessFacts {
  readonly reason: string;
  readonly user?: UserInfo;
  /** The user the caller impersonated from. */
  readonly impersonator?: string;
  readonly attributes?: Attributes;
}

/** The access line of one decision: who, asking what, decided how, in how many milliseconds. */
function writeAccessLine(
  log: ProxyAccessLog,
  request: GateRequest,
  path: string | undefined,
  result: GateResult,
  facts: AccessFacts,
  ms: number,
): void {
  log.request(
    request.requestId,
    request.peer,
    request.method,
    path,
    result.outcome === 'pass' ? 'allowed' : 'denied',
    facts.reason,
    result.outcome === 'deny' ? result.denial.kind : undefined,
    facts.user,
    facts.impersonator || undefined,
    facts.attributes,
    ms,
  );
}

/**
 * The sidecar's decision for one request, shared by the proxy and `/check`, in the order
 * kube-apiserver applies its filters: a canonical path (400), ignore paths, authentication
 * (401), impersonation (400/403), the allow-lists (403), per-request authorization (403,
 * 400 for a rewrite with no value, 500 for an authorizer error). Nothing here writes to the
 * network; identity headers are the caller's job. Every decision writes one access line,
 * once the caller has acted on it (`setImmediate`): by then the proxy has sent the request
 * upstream, so the line is formatted while the upstream works instead of before it starts.
 */
export function createGate(options: GateOptions): (request: GateRequest) => Promise<GateResult> {
  const { logger } = options;
  const access = new ProxyAccessLog(logger);
  return async function gate(request) {
    const started = performance.now();
    const target = parseRequestTarget(request.target);
    const path = target?.path;
    const decided = (result: GateResult, facts: AccessFacts): GateResult => {
      setImmediate(writeAccessLine, access, request, path, result, facts, performance.now() - started);
      return result;
    };

    if (!target) {
      return decided(deny({ kind: 'bad-request', message: 'the request path is not canonical' }), {
        reason: 'non-canonical-path',
      });
    }
    if (options.ignore?.(target.path)) return decided({ outcome: 'pass' }, { reason: 'ignored-path' });

    const authn = await options.authenticator.authenticateRequest(request);
    if (authn.outcome !== 'authenticated') {
      const tokenGiven = Object.hasOwn(request.headers, 'authorization');
      return decided(deny({ kind: 'unauthenticated', tokenGiven }), {
        reason: authn.outcome === 'error' ? authn.error.code : 'no-credential',
      });
    }
    let user = authn.user;
    let impersonator: string | undefined;

    const impersonation = asksImpersonation(request.headers)
      ? await impersonate(request.headers, user, options.authorizer)
      : NO_IMPERSONATION;
    switch (impersonation.outcome) {
      case 'bad-request':
        return decided(deny({ kind: 'bad-request', message: impersonation.message }), {
          reason: 'impersonation-invalid',
          user,
        });
      case 'forbidden':
        return decided(deny({ kind: 'forbidden', message: impersonation.message }), {
          reason: 'impersonation-forbidden',
          user,
        });
      case 'impersonated':
        impersonator = user.username;
        user = impersonation.user;
        break;
      case 'none':
        break;
    }
    const who = impersonator === undefined ? { user } : { user, impersonator };

    if (options.allow && !options.allow(user)) {
      return decided(
        deny({
          kind: 'forbidden',
          message: `Forbidden (user=${user.username}): not an allowed service account, namespace or group`,
        }),
        { reason: 'not-in-allow-lists', ...who },
      );
    }

    let last: Attributes | undefined;
    if (options.attributes) {
      const all = options.attributes(user, {
        method: request.method,
        path: target.path,
        rawQuery: target.rawQuery,
        headers: request.headers,
      });
      if (all.length === 0) {
        return decided(
          deny({ kind: 'bad-request', message: 'Bad Request. The request or configuration is malformed.' }),
          { reason: 'no-attributes', ...who },
        );
      }
      for (const attributes of all) {
        last = attributes;
        const result = await options.authorizer.authorize(attributes);
        if (result.error !== undefined && result.decision !== 'allow') {
          logger.error(
            { reqId: request.requestId, user: user.username, verb: attributes.verb },
            'authorization error',
          );
          return decided(deny({ kind: 'error', message: 'authorization error' }), {
            reason: 'evaluation-error',
            ...who,
            attributes,
          });
        }
        if (result.decision !== 'allow') {
          return decided(deny({ kind: 'forbidden', message: forbidden(user, attributes) }), {
            reason: 'forbidden',
            ...who,
            attributes,
          });
        }
      }
    }
    return decided(
      { outcome: 'pass', user },
      { reason: last ? 'allow' : 'authenticated', ...who, ...(last ? { attributes: last } : {}) },
    );
  };
}
