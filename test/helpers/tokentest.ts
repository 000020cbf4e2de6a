import type { AuthnResult, TokenAuthenticator } from '../../src/authn/authenticator.js';
import { NO_OPINION } from '../../src/authn/authenticator.js';
import type { UserInfo } from '../../src/user.js';

/**
 * kube's `tokentest`: a tiny in-memory authenticator for other suites. Tokens in the map
 * authenticate as their user (audiences: the requested ones); any other token is not its
 * business. `calls` records every token it was asked about.
 */
export function tokentest(
  tokens: Readonly<Record<string, UserInfo>> = {},
): TokenAuthenticator & { calls: string[] } {
  const known = new Map(Object.entries(tokens));
  const calls: string[] = [];
  return {
    calls,
    authenticateToken(token, audiences): Promise<AuthnResult> {
      calls.push(token);
      const user = known.get(token);
      return Promise.resolve(
        user ? { outcome: 'authenticated', user, audiences: [...audiences] } : NO_OPINION,
      );
    },
  };
}
