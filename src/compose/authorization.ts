import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Authorizer } from '../authz/authorizer.js';
import { createPrivilegedGroupsAuthorizer } from '../authz/privileged.js';
import type { CompiledPolicy } from '../authz/rbac/compile.js';
import { createFilePolicySource } from '../authz/rbac/file-source.js';
import type { PolicyHealth, PolicySource } from '../authz/rbac/policy-source.js';
import { RbacAuthorizer } from '../authz/rbac/rbac.js';
import { builtinAuthorizers, createAuthorizerUnion } from '../authz/union.js';
import type { AuthorizationOptions } from './options.js';

export interface Authorization {
  /** kube-apiserver's chain: `system:masters` first, then RBAC when there is a policy. */
  readonly authorizer: Authorizer;
  /** The RBAC policy served, for `who-can` and the metrics; absent without one. */
  readonly policy?: {
    current(): CompiledPolicy;
    /** Absent for a policy given already loaded: it never reloads. */
    readonly health?: () => PolicyHealth;
    /** Calls `listener` after each reload attempt that read changed files; returns the unsubscribe. */
    readonly onReload?: (listener: () => void) => () => void;
  };
  close(): void;
}

/** The one place the authorizer chain is built, for `serve`, `dev`, `can-i` and the library. */
export async function buildAuthorization(
  options: AuthorizationOptions | undefined,
  deps: { readonly logger?: Logger },
): Promise<Authorization> {
  const privileged = createPrivilegedGroupsAuthorizer();
  if (options === undefined) {
    return { authorizer: createAuthorizerUnion(builtinAuthorizers(undefined, privileged)), close: () => {} };
  }
  if ('policy' in options) {
    const { policy } = options;
    return {
      authorizer: createAuthorizerUnion(builtinAuthorizers(new RbacAuthorizer(policy), privileged)),
      policy: { current: () => policy },
      close: () => {},
    };
  }
  const source: PolicySource =
    'source' in options
      ? options.source
      : // Policy files are always watched: only long-running commands name them.
        await createFilePolicySource(options.policyFiles, {
          logger: deps.logger ?? pino({ enabled: false }),
        });
  return {
    authorizer: createAuthorizerUnion(builtinAuthorizers(source.authorizer, privileged)),
    policy: {
      current: () => source.current(),
      health: () => source.health(),
      onReload: (listener) => source.onReload(listener),
    },
    close: () => source.close(),
  };
}
