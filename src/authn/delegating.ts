import type { AuthnResult, TokenAuthenticator } from './authenticator.js';

/**
 * Asks `delegate` about a token only when `local` does not claim it. "Claims" is the
 * token union's own rule: a member claims a token when it answers anything but
 * no-opinion, so a token some local authenticator authenticated or refused (an expired
 * service-account token, a legacy token under `--service-account-legacy-tokens=reject`)
 * is never sent on; a token whose issuer no local authenticator has, that is not a JWT,
 * or that is not in `--token-auth-file` is.
 */
export function delegateUnclaimed(
  local: TokenAuthenticator,
  delegate: TokenAuthenticator,
): TokenAuthenticator {
  return {
    async authenticateToken(token, audiences): Promise<AuthnResult> {
      const result = await local.authenticateToken(token, audiences);
      return result.outcome === 'no-opinion' ? delegate.authenticateToken(token, audiences) : result;
    },
  } satisfies TokenAuthenticator;
}
