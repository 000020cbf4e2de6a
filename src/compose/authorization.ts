import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Authorizer } from '../authz/authorizer.js';
import { createPrivilegedGroupsAuthorizer } from '../authz/privileged.js';
import type { CompiledPolicy } from '../authz/rbac/compile.js';
import { createFilePolicySource } from '../authz/rbac/file-source.js';
import type { PolicyHealth } from '../authz/rbac/policy-source.js';
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

/** Authorization options with nothing left to read: what the synchronous composition takes. */
export type LoadedAuthorizationOptions = Exclude<
  AuthorizationOptions,
  { readonly policyFiles: readonly string[] }
>;

/**
 * Reads policy files into a watched PolicySource (the only part of composing that waits on
 * I/O, so the library's synchronous constructor can compose without it). Policy files are
 * always watched: only long-running commands name them.
 */
export async function loadAuthorizationOptions(
  options: AuthorizationOptions | undefined,
  deps: { readonly logger?: Logger },
): Promise<LoadedAuthorizationOptions | undefined> {
  if (options === undefined || !('policyFiles' in options)) return options;
  return {
    source: await createFilePolicySource(options.policyFiles, {
      logger: deps.logger ?? pino({ enabled: false }),
    }),
  };
}

/** The one place the authorizer chain is built, for `serve`, `dev`, `can-i`, `who-can` and the library. */
export function buildAuthorization(options: LoadedAuthorizationOptions | undefined): Authorization {
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
  const { source } = options;
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
