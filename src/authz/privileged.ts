import { SYSTEM_MASTERS } from '../user.js';
import type { Attributes, Authorizer, AuthzResult } from './authorizer.js';

const ALLOW: AuthzResult = Object.freeze({ decision: 'allow', reason: '' });
const NO_OPINION: AuthzResult = Object.freeze({ decision: 'no-opinion', reason: '' });

/**
 * kube-apiserver's privileged-groups authorizer (`authorizerfactory.NewPrivilegedGroups`),
 * which reload.go puts before every configured mode: a member of `system:masters` is allowed
 * with an empty reason, whatever RBAC says.
 */
export function createPrivilegedGroupsAuthorizer(groups: readonly string[] = [SYSTEM_MASTERS]): Authorizer {
  const privileged = new Set(groups);
  return {
    authorize(attributes: Attributes): AuthzResult {
      for (const group of attributes.user.groups) {
        if (privileged.has(group)) return ALLOW;
      }
      return NO_OPINION;
    },
  } satisfies Authorizer;
}
