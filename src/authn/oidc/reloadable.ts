import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { RemoteKeySource } from '../../keys/jwks.js';
import type { ReloadStats } from '../../observe/metrics.js';
import { NO_OPINION, type TokenAuthenticator } from '../authenticator.js';
import { AuthenticationConfigError } from './config.js';

/** kube's UpdateAuthenticationConfigTimeout: how long a new set's issuers may take to load their keys. */
const SWAP_TIMEOUT_MS = 60_000;

/** The `jwt[]` issuers of one AuthenticationConfiguration, and the key sources they own. */
export interface JwtAuthenticators {
  /** One union, audience-agnostic as kube wraps it; absent when there are no issuers. */
  readonly authenticator?: TokenAuthenticator;
  /** One discovery source per issuer, for readiness, metrics and close. */
  readonly remote: readonly RemoteKeySource[];
}

export interface ReloadableJwtOptions {
  /** The set built at start from `text`. */
  readonly initial: { readonly text: string; readonly set: JwtAuthenticators };
  /** Reads the configuration's text again; throws (an errno error) when it cannot. */
  readonly read: () => string;
  /** A whole new set from a text; throws AuthenticationConfigError for an invalid one. */
  readonly build: (text: string) => JwtAuthenticators;
  /** Calls back when the text may have changed; absent for one-shot commands. */
  readonly watch?: (onChange: () => void) => { close(): void };
  readonly clock: Clock;
  readonly logger?: Logger;
}

export interface ReloadableJwt {
  /** Hands each token to the set current when the call starts, so no call sees two configurations. */
  readonly authenticator: TokenAuthenticator;
  /** The current set's key sources, for readiness, metrics and whenReady. */
  remote(): readonly RemoteKeySource[];
  /** Called after a swap and after any current source's keys change: answers may differ. */
  onChange(listener: () => void): () => void;
  stats(): ReloadStats;
  close(): void;
}

function closeSet(set: JwtAuthenticators): void {
  for (const s of set.remote) s.close();
}

/**
 * `--authentication-config`, reloaded as kube-apiserver reloads it (1.30+): re-read on
 * change and on a 60 s resync. A new valid text becomes a whole new set of issuers, which is
 * swapped in only once every issuer has loaded its keys, so a config edit never makes
 * `/readyz` fail and a slow issuer never leaves a gap. Until then, and whenever the new text
 * is invalid or its issuers do not load in time, the last good set serves.
 */
export function createReloadableJwt(options: ReloadableJwtOptions): ReloadableJwt {
  const { clock, logger } = options;
  let current = options.initial.set;
  // The text served, or the last one found invalid: an invalid file stays invalid until edited,
  // so it is counted once, not on every resync (kube's tracker does the same).
  let tracked = options.initial.text;
  let pending: { text: string; set: JwtAuthenticators } | undefined;
  let closed = false;
  let successes = 0;
  let failures = 0;
  let lastSuccess: number | undefined;
  let lastFailure: number | undefined;
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of listeners) l();
  };
  const subscribe = (set: JwtAuthenticators): (() => void) => {
    const offs = set.remote.map((s) => s.onChange(notify));
    return () => {
      for (const off of offs) off();
    };
  };
  let unsubscribe = subscribe(current);

  const fail = (error: string): void => {
    failures++;
    lastFailure = clock.now();
    // The error names a field and kube's reason, never a token or the rest of the file.
    logger?.error(
      { what: 'authentication-config', err: error },
      'reload failed; keeping the last good configuration',
    );
  };
  const cancelPending = (): void => {
    if (pending) closeSet(pending.set);
    pending = undefined;
  };

  const reload = async (): Promise<void> => {
    if (closed) return;
    let text;
    try {
      text = options.read();
    } catch (err) {
      // Not tracked: a file being replaced may be back at the next event or resync.
      fail(`cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      return;
    }
    if (text === pending?.text) return;
    // Any other text supersedes a set still loading, including a return to the served one.
    cancelPending();
    if (text === tracked) return;
    let next: JwtAuthenticators;
    try {
      next = options.build(text);
    } catch (err) {
      tracked = text;
      fail(err instanceof AuthenticationConfigError ? err.message : 'the configuration could not be built');
      return;
    }
    const mine = { text, set: next };
    pending = mine;
    const loaded = await Promise.all(next.remote.map((s) => s.whenReady(SWAP_TIMEOUT_MS)));
    // Superseded or closed meanwhile: whoever did that closed this set.
    if (pending !== mine) return;
    pending = undefined;
    if (!loaded.every(Boolean)) {
      closeSet(next);
      // Not tracked: the issuer may come up, and the next event or resync tries again.
      const reasons = next.remote
        .map((s) => s.health())
        .filter((h) => !h.ready)
        .map((h) => h.lastFailureReason ?? 'still loading');
      fail(`the keys of ${reasons.length} issuer(s) did not load (${reasons.join(', ')})`);
      return;
    }
    const old = current;
    current = next;
    tracked = text;
    unsubscribe();
    unsubscribe = subscribe(next);
    // A call already running on the old set keeps its snapshots: a closed source still serves
    // the keys it holds, it only stops fetching.
    closeSet(old);
    successes++;
    lastSuccess = clock.now();
    logger?.info({ what: 'authentication-config', issuers: next.remote.length }, 'reloaded');
    notify();
  };
  const watcher = options.watch?.(() => void reload());

  return {
    authenticator: {
      authenticateToken: (token, audiences) =>
        current.authenticator?.authenticateToken(token, audiences) ?? Promise.resolve(NO_OPINION),
    } satisfies TokenAuthenticator,
    remote: () => current.remote,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stats: () => ({
      successes,
      failures,
      ...(lastSuccess === undefined ? {} : { lastSuccess }),
      ...(lastFailure === undefined ? {} : { lastFailure }),
    }),
    close() {
      closed = true;
      watcher?.close();
      cancelPending();
      unsubscribe();
      closeSet(current);
    },
  };
}
