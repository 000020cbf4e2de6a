import { aggregateMessage } from '../errors.js';
import type { Attributes, Authorizer, AuthzResult } from './authorizer.js';

/** A union member under the name kube-apiserver gives it (`rbac`, `privileged`, a webhook's name). */
export interface NamedAuthorizer {
  readonly name: string;
  readonly authorizer: Authorizer;
}

/**
 * kube's authorizer union (`AS/pkg/authorization/union/union.go`): members are asked in order
 * and the first allow or deny returns with its own reason and error. If every member has no
 * opinion, their non-empty reasons, each prefixed with the member's name as kube 1.37 does
 * (`rbac: RBAC: clusterrole... not found`), are joined with "\n" and their errors aggregated.
 */
export function createAuthorizerUnion(members: readonly NamedAuthorizer[]): Authorizer {
  if (members.length === 0) throw new TypeError('createAuthorizerUnion: at least one authorizer is required');
  const names = new Set(members.map((m) => m.name));
  if (names.size !== members.length || names.has('')) {
    throw new TypeError('createAuthorizerUnion: member names must be unique and non-empty');
  }
  const list = [...members];
  return {
    authorize(attributes: Attributes): AuthzResult {
      let reasons: string[] | undefined;
      let errors: string[] | undefined;
      for (const { name, authorizer } of list) {
        const result = authorizer.authorize(attributes);
        if (result.decision !== 'no-opinion') return result;
        if (result.reason !== '') (reasons ??= []).push(`${name}: ${result.reason}`);
        if (result.error) (errors ??= []).push(result.error);
      }
      const reason = reasons ? reasons.join('\n') : '';
      return errors
        ? { decision: 'no-opinion', reason, error: aggregateMessage(errors) }
        : { decision: 'no-opinion', reason };
    },
  } satisfies Authorizer;
}

/** kube-apiserver's built-in chain: `system:masters` first, then RBAC over `rbac`. */
export function builtinAuthorizers(rbac: Authorizer | undefined, privileged: Authorizer): NamedAuthorizer[] {
  return [
    { name: 'privileged', authorizer: privileged },
    ...(rbac ? [{ name: 'rbac', authorizer: rbac }] : []),
  ];
}
