import { ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, ANONYMOUS } from '../user.js';
import { promisedAnswer, type AuthnResult, type TokenAuthenticator } from './authenticator.js';

/**
 * Kube's AuthenticatedGroupAdder on one answer: a success gets `system:authenticated`
 * appended, on a copy, unless the user is anonymous or already has it or
 * `system:unauthenticated`.
 */
export function addAuthenticatedGroup(result: AuthnResult): AuthnResult {
  if (result.outcome !== 'authenticated') return result;
  const { user } = result;
  if (
    user.username === ANONYMOUS ||
    user.groups.includes(ALL_AUTHENTICATED) ||
    user.groups.includes(ALL_UNAUTHENTICATED)
  ) {
    return result;
  }
  return { ...result, user: { ...user, groups: withAllAuthenticated(user.groups) } };
}

/**
 * A frozen list is shared by whoever froze it (the service-account groups of a namespace),
 * so its copy with `system:authenticated` is made once and shared too: the token cache keeps
 * frozen lists as they are instead of a copy per token.
 */
const extended = new WeakMap<readonly string[], readonly string[]>();

function withAllAuthenticated(groups: readonly string[]): readonly string[] {
  if (!Object.isFrozen(groups)) return [...groups, ALL_AUTHENTICATED];
  let copy = extended.get(groups);
  if (copy === undefined) {
    copy = Object.freeze([...groups, ALL_AUTHENTICATED]);
    extended.set(groups, copy);
  }
  return copy;
}

/**
 * Kube's AuthenticatedGroupAdder over a token authenticator: `addAuthenticatedGroup` on each
 * answer, at once when the inner authenticator answers at once.
 */
export function withAuthenticatedGroup(inner: TokenAuthenticator): TokenAuthenticator {
  if (!inner.authenticateTokenNow) {
    return {
      async authenticateToken(token, audiences): Promise<AuthnResult> {
        return addAuthenticatedGroup(await inner.authenticateToken(token, audiences));
      },
    } satisfies TokenAuthenticator;
  }
  const now = inner.authenticateTokenNow.bind(inner);
  const authenticateTokenNow = (
    token: string,
    audiences: readonly string[],
  ): AuthnResult | Promise<AuthnResult> => {
    const result = now(token, audiences);
    return result instanceof Promise ? result.then(addAuthenticatedGroup) : addAuthenticatedGroup(result);
  };
  return {
    authenticateTokenNow,
    authenticateToken: promisedAnswer(authenticateTokenNow),
  } satisfies TokenAuthenticator;
}
