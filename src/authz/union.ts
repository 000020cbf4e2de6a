import { aggregateMessage } from '../errors.js';
import type { Attributes, Authorizer, AuthzResult } from './authorizer.js';

/**
 * kube's authorizer union (`AS/pkg/authorization/union/union.go`): members are asked in order
 * and the first allow or deny returns with its own reason and error. If every member has no
 * opinion, their non-empty reasons are joined with "\n" and their errors aggregated.
 */
export function createAuthorizerUnion(members: readonly Authorizer[]): Authorizer {
  if (members.length === 0) throw new TypeError('createAuthorizerUnion: at least one authorizer is required');
  const list = [...members];
  return {
    authorize(attributes: Attributes): AuthzResult {
      let reasons: string[] | undefined;
      let errors: string[] | undefined;
      for (const member of list) {
        const result = member.authorize(attributes);
        if (result.decision !== 'no-opinion') return result;
        if (result.reason !== '') (reasons ??= []).push(result.reason);
        if (result.error) (errors ??= []).push(result.error);
      }
      const reason = reasons ? reasons.join('\n') : '';
      return errors
        ? { decision: 'no-opinion', reason, error: aggregateMessage(errors) }
        : { decision: 'no-opinion', reason };
    },
  } satisfies Authorizer;
}
