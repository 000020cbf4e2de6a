import { aggregateMessage } from '../errors.js';
import type { Attributes, Authorizer, AuthzResult } from './authorizer.js';

/** The no-opinion reasons and errors of the members asked so far. */
class Gathered {
  private reasons: string[] | undefined;
  private errors: string[] | undefined;

  add(name: string, result: AuthzResult): void {
    if (result.reason !== '') (this.reasons ??= []).push(`${name}: ${result.reason}`);
    if (result.error) (this.errors ??= []).push(result.error);
  }

  result(): AuthzResult {
    const reason = this.reasons ? this.reasons.join('\n') : '';
    return this.errors
      ? { decision: 'no-opinion', reason, error: aggregateMessage(this.errors) }
      : { decision: 'no-opinion', reason };
  }
}

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
  /** Members from `start` on, once one of them has answered with a promise. */
  const rest = async (
    pending: Promise<AuthzResult>,
    start: number,
    attributes: Attributes,
    gathered: Gathered,
  ): Promise<AuthzResult> => {
    let result = await pending;
    for (let i = start; ;) {
      if (result.decision !== 'no-opinion') return result;
      gathered.add(list[i]!.name, result);
      if (++i === list.length) return gathered.result();
      result = await list[i]!.authorizer.authorize(attributes);
    }
  };
  return {
    authorize(attributes: Attributes): AuthzResult | Promise<AuthzResult> {
      const gathered = new Gathered();
      for (let i = 0; i < list.length; i++) {
        const { name, authorizer } = list[i]!;
        const result = authorizer.authorize(attributes);
        if (result instanceof Promise) return rest(result, i, attributes, gathered);
        if (result.decision !== 'no-opinion') return result;
        gathered.add(name, result);
      }
      return gathered.result();
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
