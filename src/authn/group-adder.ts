import { ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, ANONYMOUS } from '../user.js';
import type { AuthnResult, TokenAuthenticator } from './authenticator.js';

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
  return { ...result, user: { ...user, groups: [...user.groups, ALL_AUTHENTICATED] } };
}

/** Kube's AuthenticatedGroupAdder over a token authenticator: `addAuthenticatedGroup` on each answer. */
export function withAuthenticatedGroup(inner: TokenAuthenticator): TokenAuthenticator {
  return {
    async authenticateToken(token, audiences): Promise<AuthnResult> {
      return addAuthenticatedGroup(await inner.authenticateToken(token, audiences));
    },
  } satisfies TokenAuthenticator;
}
