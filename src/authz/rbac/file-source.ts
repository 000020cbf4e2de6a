import type { Logger } from 'pino';
import { watchFiles, type FileWatch, type FileWatchOptions } from '../../io/file-watch.js';
import type { Attributes, AuthzResult } from '../authorizer.js';
import type { PolicySource, ReloadEvent } from './policy-source.js';
import { compilePolicy, type CompiledPolicy } from './compile.js';
import { parsePolicy, readPolicyFiles } from './policy.js';
import { type Policy, type PolicyInput } from './types.js';
import { RbacAuthorizer } from './rbac.js';

export interface FilePolicySource extends PolicySource {
  /** Re-reads the files now (what the watcher calls); resolves when that attempt is over. */
  reload(): Promise<void>;
  /** The policy being served, before compilation (live mode compiles it together with the cluster's). */
  policy(): Policy;
}

export interface PolicySourceOptions {
  readonly logger: Logger;
  readonly watch?: FileWatchOptions;
  /** For tests: where "now" comes from. */
  readonly now?: () => Date;
}

interface Serving {
  readonly policy: Policy;
  readonly compiled: CompiledPolicy;
  readonly authorizer: RbacAuthorizer;
}

/**
 * Loads the RBAC policy files, serves them, and reloads them when they change. The first load
 * throws `TokenwardenError` (`ERR_POLICY_INVALID`, naming file, document and field) so the CLI
 * can refuse to start. After that a bad edit is logged, counted and reported by `health()`,
 * and the last good policy keeps serving: a half-written file must never open or close
 * access. A new policy replaces the old in one assignment, so no decision sees a mix.
 */
export async function createFilePolicySource(
  paths: readonly string[],
  options: PolicySourceOptions,
): Promise<FilePolicySource> {
  const now = options.now ?? (() => new Date());
  const log = options.logger.child({ component: 'rbac-policy' });
  const initialTexts = await readPolicyFiles(paths);
  let serving = build(initialTexts);
  let lastTexts = initialTexts;
  logNotes(log, serving.policy);
  log.info(
    { files: paths.length, rules: serving.compiled.ruleCount, bindings: serving.compiled.bindingCount },
    'RBAC policy loaded',
  );

  let current: Serving = serving;
  let lastSuccess = now();
  let lastError: string | undefined;
  let lastErrorAt: Date | undefined;
  let failures = 0;
  let reloads = 0;
  const listeners = new Set<(event: ReloadEvent) => void>();
  let closed = false;

  const emit = (event: ReloadEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (err) {
        log.error({ err }, 'policy reload listener failed');
      }
    }
  };

  const attempt = async (): Promise<void> => {
    let texts: PolicyInput[];
    try {
      texts = await readPolicyFiles(paths);
    } catch (err) {
      // Forget what was read last, so the files coming back (even unchanged) count as a change.
      lastTexts = [];
      fail(err);
      return;
    }
    // The watcher fires for any change in the directories and on a timer: most calls find nothing
    // new, and content that already failed to parse has been reported once.
    if (sameTexts(texts, lastTexts)) return;
    try {
      serving = build(texts);
    } catch (err) {
      lastTexts = texts;
      fail(err);
      return;
    }
    lastTexts = texts;
    current = serving;
    lastSuccess = now();
    lastError = undefined;
    lastErrorAt = undefined;
    reloads++;
    logNotes(log, serving.policy);
    log.info(
      { rules: serving.compiled.ruleCount, bindings: serving.compiled.bindingCount },
      'RBAC policy reloaded',
    );
    emit({
      outcome: 'success',
      ruleCount: serving.compiled.ruleCount,
      bindingCount: serving.compiled.bindingCount,
      notes: serving.policy.notes,
    });
  };

  const fail = (err: unknown): void => {
    const message = err instanceof Error ? err.message : String(err);
    // Same broken content seen again by the resync timer: already reported.
    if (message === lastError) return;
    failures++;
    lastError = message;
    lastErrorAt = now();
    log.error({ error: message }, 'RBAC policy reload failed; keeping the last good policy');
    emit({ outcome: 'failure', error: message });
  };

  // One reload at a time; a change during a reload schedules exactly one more, so the last
  // state of the files always gets read and an older read never overwrites a newer one.
  let running: Promise<void> | undefined;
  let again = false;
  const reload = (): Promise<void> => {
    if (closed) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await attempt();
        } while (again && !closed);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const watcher: FileWatch = watchFiles(
    paths,
    () => {
      reload().catch((err: unknown) => log.error({ err }, 'RBAC policy reload crashed'));
    },
    options.watch,
  );

  return {
    authorizer: {
      authorize(attributes: Attributes): AuthzResult {
        return current.authorizer.authorize(attributes);
      },
    },
    current: () => current.compiled,
    policy: () => current.policy,
    health: () => ({
      ready: true,
      lastError,
      lastErrorAt,
      lastSuccess,
      ruleCount: current.compiled.ruleCount,
      bindingCount: current.compiled.bindingCount,
      failures,
      reloads,
    }),
    onReload(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reload,
    close() {
      closed = true;
      watcher.close();
      listeners.clear();
    },
  };
}

function build(texts: readonly PolicyInput[]): {
  policy: Policy;
  compiled: CompiledPolicy;
  authorizer: RbacAuthorizer;
} {
  const policy = parsePolicy(texts);
  const compiled = compilePolicy(policy);
  return { policy, compiled, authorizer: new RbacAuthorizer(compiled) };
}

function sameTexts(a: readonly PolicyInput[], b: readonly PolicyInput[]): boolean {
  return a.length === b.length && a.every((x, i) => x.name === b[i]!.name && x.text === b[i]!.text);
}

function logNotes(log: Logger, policy: Policy): void {
  for (const note of policy.notes) log.info({ note }, 'RBAC policy note');
}
