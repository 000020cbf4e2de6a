import { aggregateMessage, TokenwardenError } from '../errors.js';
import { failure, NO_OPINION, type AuthnResult, type TokenAuthenticator } from './authenticator.js';

/**
 * Kube's token union: members are asked in order, the first success wins, and errors
 * count only when nobody succeeds (an SA-rejected token still reaches the next member).
 */
export function unionAuthenticator(members: readonly TokenAuthenticator[]): TokenAuthenticator {
  if (members.length === 1) return members[0]!;
  return {
    async authenticateToken(token, audiences): Promise<AuthnResult> {
      const errors: TokenwardenError[] = [];
      for (const member of members) {
        const result = await member.authenticateToken(token, audiences);
        if (result.outcome === 'authenticated') return result;
        if (result.outcome === 'error') errors.push(result.error);
      }
      if (errors.length === 0) return NO_OPINION;
      if (errors.length === 1) return failure(errors[0]!);
      const transient = errors.find((e) => e.transient);
      const parts = errors.flatMap((e) => e.parts);
      return failure(
        new TokenwardenError(transient ? transient.code : 'ERR_TOKEN_INVALID', aggregateMessage(parts), {
          parts,
        }),
      );
    },
  } satisfies TokenAuthenticator;
}
