import { fromFunction, type AuthnRequest, type RequestAuthenticator } from './authenticator.js';
import { addAuthenticatedGroup, withAuthenticatedGroup } from './group-adder.js';
import { unionAuthenticator } from './union.js';

/**
 * kube's request authenticator chain: members asked in order (request-header, x509,
 * bearer token), the first success wins, errors reported only when nobody succeeds, and
 * `system:authenticated` added to a success. It reuses the token union and the group
 * adder, so the rules live in one place.
 */
export function requestAuthenticatorChain(members: readonly RequestAuthenticator[]): RequestAuthenticator {
  // One member (a bearer token alone, a sidecar's usual setup) has nobody to unite with: its
  // answer with the group added, without a union and adapters built for every request.
  if (members.length === 1) {
    const only = members[0]!;
    return {
      async authenticateRequest(request: AuthnRequest) {
        return addAuthenticatedGroup(await only.authenticateRequest(request));
      },
    } satisfies RequestAuthenticator;
  }
  return {
    authenticateRequest(request: AuthnRequest) {
      const bound = members.map((m) => fromFunction(() => m.authenticateRequest(request)));
      return withAuthenticatedGroup(unionAuthenticator(bound)).authenticateToken('', []);
    },
  } satisfies RequestAuthenticator;
}
