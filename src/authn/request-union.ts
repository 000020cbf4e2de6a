import { fromFunction, type AuthnRequest, type RequestAuthenticator } from './authenticator.js';
import { withAuthenticatedGroup } from './group-adder.js';
import { unionAuthenticator } from './union.js';

/**
 * kube's request authenticator chain: members asked in order (request-header, x509,
 * bearer token), the first success wins, errors reported only when nobody succeeds, and
 * `system:authenticated` added to a success. It reuses the token union and the group
 * adder, so the rules live in one place.
 */
export function requestAuthenticatorChain(members: readonly RequestAuthenticator[]): RequestAuthenticator {
  return {
    authenticateRequest(request: AuthnRequest) {
      const bound = members.map((m) => fromFunction(() => m.authenticateRequest(request)));
      return withAuthenticatedGroup(unionAuthenticator(bound)).authenticateToken('', []);
    },
  } satisfies RequestAuthenticator;
}
