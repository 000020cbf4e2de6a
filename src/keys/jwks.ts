import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.js';
import { TokenwardenError } from '../errors.js';
import { namesLoopbackLiterally } from './address-policy.js';
import {
  FetchError,
  fetchDocument,
  sourceFetchOptions,
  type FetchFailure,
  type SourceFetchOptions,
} from './fetch.js';
import {
  makeSnapshot,
  type KeySnapshot,
  type KeySource,
  type KeySourceHealth,
  type RefreshReason,
  type VerificationKey,
} from './key-source.js';
import { MAX_KEYS_PER_SOURCE, parseJwks } from './parse.js';

/** What one load of a remote source yields: usable keys, and how long the server says they stay fresh. */
export interface RemoteLoad {
  readonly keys: readonly VerificationKey[];
  readonly skipped: readonly string[];
  readonly maxAgeMs?: number;
}

/** Loads the key set once; throws a FetchError (or TokenwardenError) on any failure. */
export type RemoteLoader = (signal: AbortSignal) => Promise<RemoteLoad>;

export interface RemoteTiming {
  /** Total deadline of one load, body included (default 10 s). */
  readonly timeoutMs?: number;
  /**
   * Least time between two on-demand fetches (for an unknown kid or a failed signature),
   * default 5 s. Start-up and background refreshes do not count, so a key the issuer has
   * just started signing with is fetched at once.
   */
  readonly cooldownMs?: number;
  /** Refresh bounds: Cache-Control max-age is clamped into [min, max] (default 1 min, 10 min). */
  readonly minRefreshMs?: number;
  readonly maxRefreshMs?: number;
  /** Refresh period when the server sends no max-age (default 5 min). */
  readonly defaultRefreshMs?: number;
  /** Retry backoff after a failure, doubled up to the max, with jitter (default 1 s → 60 s). */
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
}

export interface RemoteKeySourceOptions extends RemoteTiming {
  readonly name: string;
  readonly load: RemoteLoader;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Start loading at once (default true); tests may start by hand. */
  readonly autoStart?: boolean;
  /** Jitter source in [0, 1); injectable for tests. */
  readonly random?: () => number;
}

const DEFAULTS = {
  timeoutMs: 10_000,
  cooldownMs: 5_000,
  minRefreshMs: 60_000,
  maxRefreshMs: 600_000,
  defaultRefreshMs: 300_000,
  backoffInitialMs: 1_000,
  backoffMaxMs: 60_000,
} as const;

/** The decoded JWKS body is capped here, so a hostile issuer cannot exhaust memory; a real one is a few KiB. */
export const MAX_JWKS_BYTES = 512 * 1024;

function failureReason(err: unknown): FetchFailure | 'invalid-document' {
  if (err instanceof FetchError) return err.reason;
  return 'invalid-document';
}

function digestKeys(keys: readonly VerificationKey[]): string {
  const h = createHash('sha256');
  for (const k of keys) {
    h.update(k.kid)
      .update('\0')
      .update(k.key.export({ type: 'spki', format: 'der' }))
      .update('\0');
    h.update([...k.algorithms].join(',')).update('\n');
  }
  return h.digest('hex');
}

/**
 * Keys from the network, with what jose's `createRemoteJWKSet` lacks: the last good set keeps serving when a fetch fails or returns an empty or
 * invalid set (stale-if-error); a short minimum interval between on-demand fetches bounds
 * what a flood of unknown kids can cost, while a rotated-in key verifies within seconds
 * (go-oidc, which kube uses for its own issuers, refetches at once and has no bound at
 * all); one fetch is in flight at a time (single flight); a sequence
 * number keeps an older answer from replacing a newer one; background refresh follows
 * Cache-Control within bounds, and failures back off exponentially with jitter. Every
 * timer is unref'd and every background promise is caught.
 */
export class RemoteKeySource implements KeySource {
  readonly name: string;
  private readonly timing: Required<RemoteTiming>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private current: KeySnapshot | undefined;
  private digest = '';
  private readonly listeners = new Set<(s: KeySnapshot) => void>();
  private inflight: Promise<void> | undefined;
  private inflightAbort: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastAttempt: number | undefined;
  private lastOnDemand: number | undefined;
  private lastSuccess: number | undefined;
  private lastError: string | undefined;
  private lastFailure: FetchFailure | undefined;
  private loads = 0;
  private loadFailures = 0;
  private consecutiveFailures = 0;
  private readonly failuresByReason = new Map<string, number>();
  private startedSeq = 0;
  private appliedSeq = 0;
  private closed = false;
  private waiters: Array<() => void> = [];

  constructor(private readonly options: RemoteKeySourceOptions) {
    this.name = options.name;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    const pick = (k: keyof typeof DEFAULTS): number => options[k] ?? DEFAULTS[k];
    this.timing = {
      timeoutMs: pick('timeoutMs'),
      cooldownMs: pick('cooldownMs'),
      minRefreshMs: pick('minRefreshMs'),
      maxRefreshMs: pick('maxRefreshMs'),
      defaultRefreshMs: pick('defaultRefreshMs'),
      backoffInitialMs: pick('backoffInitialMs'),
      backoffMaxMs: pick('backoffMaxMs'),
    };
    for (const [k, v] of Object.entries(this.timing)) {
      if (!Number.isFinite(v) || v < 0)
        throw new TypeError(`${this.name}: ${k} must be a non-negative number`);
    }
    if (options.autoStart !== false) this.start();
  }

  /** Begins loading (once); the first attempt runs at once. */
  start(): void {
    if (this.closed || this.timer || this.inflight || this.lastAttempt !== undefined) return;
    this.runInBackground();
  }

  snapshot(): KeySnapshot | undefined {
    return this.current;
  }

  /**
   * A gated token names a kid we lack, or (`signature-failed`) one we serve whose keys
   * did not verify it. This joins the fetch in flight, or off cooldown starts one, and
   * waits for it, at most the fetch deadline; on cooldown it answers at once with what we
   * have, so a flood of random kids or of bad signatures costs at most one fetch per
   * cooldown, never one per token (go-oidc's refetch on every failed signature is the DoS
   * shape avoided). A set the fetch brings replaces the old one whole: a removed key stops
   * verifying then.
   */
  async refreshForKid(kid: string, reason: RefreshReason = 'unknown-kid'): Promise<KeySnapshot | undefined> {
    const known = this.current?.byKid.has(kid) === true;
    // A known kid gains nothing from a fetch unless its signature failed; a failed
    // signature under a kid we do not serve (a sibling source's, in a merged issuer) is not ours to fix.
    if (reason === 'unknown-kid' ? known : !known) return this.current;
    if (this.inflight) {
      await this.inflight;
      return this.current;
    }
    if (this.closed || this.onCooldown()) return this.current;
    this.lastOnDemand = this.clock.now();
    await this.refresh();
    return this.current;
  }

  /** Fetches now, unless a fetch is already in flight (then joins it). Never throws. */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.inflight) return this.inflight;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const seq = ++this.startedSeq;
    this.lastAttempt = this.clock.now();
    const abort = new AbortController();
    this.inflightAbort = abort;
    const run = this.options
      .load(abort.signal)
      .then(
        (loaded) => this.applySuccess(seq, loaded),
        (err: unknown) => this.applyFailure(seq, err),
      )
      .catch((err: unknown) => this.applyFailure(seq, err))
      .finally(() => {
        this.inflight = undefined;
        this.inflightAbort = undefined;
        this.schedule();
        // Waiters run after the in-flight slot is free, so they may start a fetch of their own.
        if (this.current) for (const w of [...this.waiters]) w();
      });
    this.inflight = run;
    return run;
  }

  /** Resolves once the first load succeeded (or after `timeoutMs`); true if keys are loaded. */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.current || this.closed) return Promise.resolve(this.current !== undefined);
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => done(), timeoutMs);
      t.unref();
      const done = (): void => {
        clearTimeout(t);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(this.current !== undefined);
      };
      this.waiters.push(done);
    });
  }

  onChange(listener: (s: KeySnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  health(): KeySourceHealth {
    return {
      name: this.name,
      ready: this.current !== undefined,
      keyCount: this.current?.keys.length ?? 0,
      loads: this.loads,
      loadFailures: this.loadFailures,
      ...(this.lastSuccess === undefined ? {} : { lastSuccess: this.lastSuccess }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(this.lastFailure === undefined ? {} : { lastFailureReason: this.lastFailure }),
      failuresByReason: Object.fromEntries(this.failuresByReason),
    };
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.inflightAbort?.abort();
    for (const w of [...this.waiters]) w();
  }

  private onCooldown(): boolean {
    return this.lastOnDemand !== undefined && this.clock.now() - this.lastOnDemand < this.timing.cooldownMs;
  }

  private runInBackground(): void {
    this.refresh().catch(() => {
      // refresh() never rejects; this catch is the belt to its braces.
    });
  }

  private applySuccess(seq: number, loaded: RemoteLoad): void {
    if (loaded.keys.length === 0) {
      // kube's keycache: "found no keys" refuses the whole answer and keeps the last good set.
      throw new FetchError('empty-key-set', 'the key set holds no usable signing keys');
    }
    if (loaded.keys.length > MAX_KEYS_PER_SOURCE) {
      throw new FetchError(
        'invalid-document',
        `${loaded.keys.length} keys exceed the limit of ${MAX_KEYS_PER_SOURCE}`,
      );
    }
    this.loads++;
    this.consecutiveFailures = 0;
    this.lastError = undefined;
    this.lastFailure = undefined;
    this.lastSuccess = this.clock.now();
    this.nextRefreshMs = this.refreshDelay(loaded.maxAgeMs);
    if (seq <= this.appliedSeq) return; // an older answer never replaces a newer one
    this.appliedSeq = seq;
    for (const s of loaded.skipped) this.options.logger?.warn({ source: this.name }, s);
    const digest = digestKeys(loaded.keys);
    const wasReady = this.current !== undefined;
    if (digest !== this.digest || !this.current) {
      this.digest = digest;
      this.current = makeSnapshot(loaded.keys, (this.current?.generation ?? 0) + 1);
      this.options.logger?.info(
        { source: this.name, keys: loaded.keys.length },
        wasReady ? 'remote keys changed' : 'remote keys loaded',
      );
      for (const l of this.listeners) {
        try {
          l(this.current);
        } catch {
          // A listener's bug must not undo a good load.
        }
      }
    }
  }

  private applyFailure(seq: number, err: unknown): void {
    const reason = failureReason(err);
    const message =
      err instanceof FetchError || err instanceof TokenwardenError
        ? err.message
        : 'the key set could not be loaded';
    this.loadFailures++;
    this.consecutiveFailures++;
    this.failuresByReason.set(reason, (this.failuresByReason.get(reason) ?? 0) + 1);
    this.lastFailure = reason;
    if (message !== this.lastError) {
      this.options.logger?.warn(
        { source: this.name, reason, err: message, keysServed: this.current?.keys.length ?? 0 },
        this.current ? 'key fetch failed; keeping the last good keys' : 'key fetch failed; no keys yet',
      );
    }
    this.lastError = message;
    // A failure never touches the keys, so its sequence number needs no check.
    void seq;
    const step = Math.min(
      this.timing.backoffMaxMs,
      this.timing.backoffInitialMs * 2 ** Math.min(this.consecutiveFailures - 1, 30),
    );
    // Full jitter in [step/2, step): many replicas must not hammer a recovering endpoint together.
    this.nextRefreshMs = Math.max(1, Math.floor(step / 2 + (this.random() * step) / 2));
  }

  private nextRefreshMs = 0;

  private refreshDelay(maxAgeMs: number | undefined): number {
    const { minRefreshMs, maxRefreshMs, defaultRefreshMs } = this.timing;
    const wanted = maxAgeMs ?? defaultRefreshMs;
    const clamped = Math.min(maxRefreshMs, Math.max(minRefreshMs, wanted));
    // Up to 10 % early, so replicas spread out.
    return Math.max(1, Math.floor(clamped * (1 - this.random() * 0.1)));
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.runInBackground();
      },
      Math.min(this.nextRefreshMs, 2 ** 31 - 1),
    );
    this.timer.unref();
  }
}

export interface JwksSourceOptions extends RemoteTiming, SourceFetchOptions {
  readonly url: string;
  /** Shown in health, metrics and logs; default `jwks:<host>` (never the full URL with its query). */
  readonly name?: string;
  readonly maxBytes?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly autoStart?: boolean;
  readonly random?: () => number;
}

/** Fetch and validate one JWKS document (strict parse, per-key checks; see parse.ts). */
export async function loadJwks(
  url: string,
  options: SourceFetchOptions & { readonly maxBytes?: number; readonly timeoutMs: number },
  signal: AbortSignal,
): Promise<RemoteLoad> {
  const doc = await fetchDocument(url, {
    ...sourceFetchOptions(options),
    timeoutMs: options.timeoutMs,
    maxBytes: options.maxBytes ?? MAX_JWKS_BYTES,
    signal,
  });
  let parsed;
  try {
    parsed = parseJwks(doc.body, 'JWKS');
  } catch (err) {
    throw new FetchError(
      'invalid-document',
      err instanceof TokenwardenError ? err.message : 'the JWKS is invalid',
    );
  }
  return {
    keys: parsed.keys,
    skipped: parsed.skipped,
    ...(doc.maxAgeMs === undefined ? {} : { maxAgeMs: doc.maxAgeMs }),
  };
}

export function sourceNameForUrl(prefix: string, url: string): string {
  try {
    const u = new URL(url);
    return `${prefix}:${u.host}${u.pathname}`;
  } catch {
    return `${prefix}:invalid-url`;
  }
}

/**
 * A `--service-account-jwks-uri` source. A URL that names a loopback IP literally may
 * reach loopback without `allowLoopback` (address-policy.ts says why).
 */
export function createJwksKeySource(options: JwksSourceOptions): RemoteKeySource {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const allowLoopback = options.allowLoopback === true || namesLoopbackLiterally(options.url);
  return new RemoteKeySource({
    ...options,
    name: options.name ?? sourceNameForUrl('jwks', options.url),
    load: (signal) => loadJwks(options.url, { ...options, allowLoopback, timeoutMs }, signal),
  });
}
