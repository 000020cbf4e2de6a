import type { Context, MiddlewareHandler } from 'hono';
import { parseBearer } from './authn/bearer.js';
import { forbiddenText, unauthorized } from './api/outcomes.js';
import { respond } from './http/respond.js';
import { createAllowList, type AllowListOptions } from './proxy/allow-list.js';
import type { UserInfo } from './user.js';
import type { TokenVerifier } from './verifier.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The caller, as tokenwarden authenticated it (`tokenwarden/hono`). */
    identity: UserInfo;
  }
}

export interface TokenwardenAuthOptions {
  /** The verification core, from `createTokenVerifier`. */
  readonly verifier: TokenVerifier;
  /** The token must hold one of these audiences (default: the verifier's API audiences). */
  readonly audiences?: readonly string[];
  /** The proxy's allow-lists: service accounts (`NS:NAME`), namespaces, groups. */
  readonly allow?: AllowListOptions;
  /** A last word after authentication: false answers 403. */
  readonly authorize?: (identity: UserInfo, c: Context) => boolean | Promise<boolean>;
}

/**
 * Hono middleware: authenticates the bearer token with tokenwarden's verifier and sets the
 * caller on the context (`c.get('identity')`), answering 401 and 403 exactly as
 * `tokenwarden proxy` does: a kube `Status` body, `WWW-Authenticate: Bearer` without a
 * token and `Bearer error="invalid_token"` with a bad one. Options are checked when the
 * middleware is made, not per request.
 *
 * @example
 * import { Hono } from 'hono';
 * import { createTokenVerifier } from 'tokenwarden';
 * import { tokenwardenAuth } from 'tokenwarden/hono';
 *
 * const verifier = createTokenVerifier({ issuers: ['https://kubernetes.default.svc'], keyFiles: ['/keys/sa.pub'] });
 * const app = new Hono();
 * app.use('/api/*', tokenwardenAuth({ verifier, audiences: ['my-api'], allow: { namespaces: ['payments'] } }));
 * app.get('/api/whoami', (c) => c.json({ user: c.get('identity').username }));
 */
export function tokenwardenAuth(options: TokenwardenAuthOptions): MiddlewareHandler {
  if (!options || typeof options.verifier?.review !== 'function')
    throw new TypeError('tokenwardenAuth: options.verifier must come from createTokenVerifier');
  const allow = options.allow ? createAllowList(options.allow) : undefined;
  const audiences = options.audiences ? [...options.audiences] : [];
  return async function tokenwardenAuthMiddleware(c, next) {
    const header = c.req.header('authorization');
    const token = header === undefined ? undefined : parseBearer(header);
    if (token === undefined) return respond(c, unauthorized({ invalidToken: header !== undefined }));
    const status = await options.verifier.review(token, audiences);
    if (!status.authenticated) return respond(c, unauthorized({ invalidToken: true }));
    const u = status.user;
    const identity: UserInfo = {
      username: u.username ?? '',
      groups: u.groups ?? [],
      ...(u.uid ? { uid: u.uid } : {}),
      ...(u.extra ? { extra: u.extra } : {}),
    };
    if ((allow && !allow(identity)) || (options.authorize && !(await options.authorize(identity, c)))) {
      return respond(c, forbiddenText(`Forbidden (user=${identity.username})`));
    }
    c.set('identity', identity);
    await next();
  };
}
