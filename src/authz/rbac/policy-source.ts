import type { Authorizer } from '../authorizer.js';
import type { CompiledPolicy } from './compile.js';

export interface PolicyHealth {
  /** True once a policy is loaded; it stays true, since a bad edit keeps the last good policy. */
  readonly ready: boolean;
  /** The last failed (re)load's message, cleared by the next success. */
  readonly lastError: string | undefined;
  readonly lastErrorAt: Date | undefined;
  readonly lastSuccess: Date;
  /** Rules held by all roles of the serving policy. */
  readonly ruleCount: number;
  readonly bindingCount: number;
  /** Reloads that failed since start. */
  readonly failures: number;
  readonly reloads: number;
}

export type ReloadEvent =
  | {
      readonly outcome: 'success';
      readonly ruleCount: number;
      readonly bindingCount: number;
      readonly notes: readonly string[];
    }
  | { readonly outcome: 'failure'; readonly error: string };

/**
 * Where the RBAC policy comes from: files now, the cluster's watched objects in live mode.
 * A source always serves one whole compiled policy; a new one replaces it in one step.
 */
export interface PolicySource {
  /** Always decides with the policy being served at the moment of the call. */
  readonly authorizer: Authorizer;
  /** The compiled policy being served (for who-can and metrics). */
  current(): CompiledPolicy;
  health(): PolicyHealth;
  /** Called after every reload attempt that read changed files; returns an unsubscribe function. */
  onReload(listener: (event: ReloadEvent) => void): () => void;
  close(): void;
}
