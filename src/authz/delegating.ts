import { aggregateMessage } from '../errors.js';
import type { Attributes, Authorizer, AuthzResult } from './authorizer.js';

/**
 * Asks `delegate` only what `local` has no opinion on (RBAC finds no grant; it never
 * denies). The delegate's allow or deny is its answer as given, reason and error included;
 * when both have no opinion their non-empty reasons are joined with "\n" and their errors
 * aggregated, as kube's union does, but without a member-name prefix, so an answer only the
 * cluster had anything to say about reads exactly as the cluster wrote it. A local allow or
 * deny stays synchronous: the cluster is never asked for it.
 */
export function delegateNoOpinion(local: Authorizer, delegate: Authorizer): Authorizer {
  const combine = (mine: AuthzResult, theirs: AuthzResult): AuthzResult => {
    if (theirs.decision !== 'no-opinion') return theirs;
    const reason = [mine.reason, theirs.reason].filter((r) => r !== '').join('\n');
    const errors = [mine.error, theirs.error].filter((e): e is string => e !== undefined && e !== '');
    return errors.length > 0
      ? { decision: 'no-opinion', reason, error: aggregateMessage(errors) }
      : { decision: 'no-opinion', reason };
  };
  const ask = async (mine: AuthzResult, attributes: Attributes): Promise<AuthzResult> =>
    combine(mine, await delegate.authorize(attributes));
  return {
    authorize(attributes) {
      const mine = local.authorize(attributes);
      if (mine instanceof Promise)
        return mine.then((m) => (m.decision === 'no-opinion' ? ask(m, attributes) : m));
      return mine.decision === 'no-opinion' ? ask(mine, attributes) : mine;
    },
  } satisfies Authorizer;
}
