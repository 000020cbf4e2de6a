import type { MiddlewareHandler } from 'hono';
import { nonResourceAttributes } from '../../authz/attributes.js';
import { callerGate, type CallerDeps } from '../caller-authorization.js';
import { authnRequestFrom } from '../request-identity.js';
import { respond } from '../respond.js';

/**
 * A non-resource URL such as `/metrics`: the caller needs `verb` on the path, as kube's
 * components authorize their own `/metrics` (a ClusterRole with `nonResourceURLs: ["/metrics"]`
 * and `verbs: ["get"]`). The caller's name is kept on the context for the access log.
 */
export function authorizeNonResourceCallers(verb: string, path: string, deps: CallerDeps): MiddlewareHandler {
  const gate = callerGate(deps);
  return async function authorizeCaller(c, next) {
    const checked = await gate(
      authnRequestFrom(c),
      { requestId: c.get('requestId'), target: path, socket: c.env?.incoming?.socket },
      (user) => nonResourceAttributes(user, verb, path),
    );
    if (!checked.ok) return respond(c, checked.answer);
    c.set('callerUser', checked.user);
    await next();
  };
}
