import { ListWatch, Watch, type KubernetesObject, type ListPromise } from '@kubernetes/client-node';

export interface WatchCacheHealth {
  /** True once the first list has been stored; it stays true while a relist runs (last known state). */
  readonly synced: boolean;
  /**
   * Since when the cache has not been following the apiserver (ms since the epoch): its
   * watch ended, failed or is still waiting for an answer, so the state it serves is that
   * old; undefined while a watch is open.
   */
  readonly brokenSinceMs: number | undefined;
  readonly lastError: string | undefined;
  readonly restarts: number;
}

/** Several watch caches started, awaited and stopped together. */
export interface WatchSet {
  /** Starts every cache; resolves when each has listed once or failed its first attempt. */
  start(): Promise<void>;
  /** Resolves when every cache has listed once, however many attempts that takes. */
  readonly listed: Promise<void>;
  close(): void;
}

export interface WatchCacheOptions {
  readonly now: () => number;
  /** Backoff after a failed list or a broken watch: doubles from `minMs` up to `maxMs`. */
  readonly backoff?: { readonly minMs: number; readonly maxMs: number };
  /** Called for each object added, changed or deleted after the first list. */
  readonly onChange?: (obj: KubernetesObject) => void;
}

/**
 * One resource kept in memory by list-then-watch (client-node's ListWatch, which relists
 * on 410 Gone). Any other failure stops ListWatch; this restarts it after a bounded,
 * doubling backoff, keeping the last known objects meanwhile. The state ages from the
 * moment the watch ends until the next one is open, not only while requests fail: a slow
 * apiserver that leaves a relist or a watch unanswered must show on the staleness gauge
 * and, past the bound, on /readyz, since nothing else says the answers are getting old.
 */
export class WatchCache<T extends KubernetesObject> {
  private readonly lw: ListWatch<T>;
  private everSynced = false;
  private brokenSinceMs: number | undefined;
  private lastError: string | undefined;
  private restarts = 0;
  private delayMs: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private markSynced!: () => void;
  /** Resolves when the first list has been stored. */
  readonly listed = new Promise<void>((resolve) => (this.markSynced = resolve));

  constructor(
    watch: Watch,
    path: string,
    list: ListPromise<T>,
    private readonly options: WatchCacheOptions,
  ) {
    const backoff = options.backoff ?? { minMs: 500, maxMs: 30_000 };
    this.delayMs = backoff.minMs;
    const listed: ListPromise<T> = async () => {
      const result = await list();
      // Fresh as of this list; following again only once the watch that comes next is open.
      this.lastError = undefined;
      this.brokenSinceMs = this.options.now();
      // ListWatch stores the items once this promise resolves; by the next macrotask they are in.
      setImmediate(() => {
        if (this.synced()) this.markSynced();
      });
      return result;
    };
    // ListWatch calls only `watch.watch`; this one also tells when a watch opened (its
    // promise resolved without the stream having ended: a refused watch calls `done` first).
    const tracked: Pick<Watch, 'watch'> = {
      watch: async (watchPath, query, callback, done) => {
        let ended = false;
        const controller = await watch.watch(watchPath, query, callback, (err: unknown) => {
          ended = true;
          done(err);
        });
        if (!ended) this.contact();
        return controller;
      },
    };
    this.lw = new ListWatch<T>(path, tracked as Watch, listed, false);
    // Each connect begins a relist or a new watch: from here the state is no longer followed.
    this.lw.on('connect', () => {
      if (this.synced()) this.brokenSinceMs ??= this.options.now();
    });
    const changed = (obj: T): void => {
      this.contact();
      this.delayMs = backoff.minMs;
      if (this.synced()) options.onChange?.(obj);
    };
    this.lw.on('add', changed);
    this.lw.on('update', changed);
    this.lw.on('delete', changed);
    this.lw.on('error', (err: unknown) => {
      this.lastError = err instanceof Error ? err.message : String(err);
      this.brokenSinceMs ??= this.options.now();
      if (this.closed) return;
      this.restarts++;
      this.timer = setTimeout(() => void this.start(), this.delayMs);
      this.timer.unref();
      this.delayMs = Math.min(this.delayMs * 2, backoff.maxMs);
    });
  }

  /** Resolves once the first list is stored and the watch is open, or the attempt failed. */
  async start(): Promise<void> {
    if (this.closed) return;
    await this.lw.start();
  }

  private contact(): void {
    this.brokenSinceMs = undefined;
    this.lastError = undefined;
  }

  synced(): boolean {
    this.everSynced ||= this.lw.latestResourceVersion() !== '';
    return this.everSynced;
  }

  get(namespace: string, name: string): T | undefined {
    return this.lw.get(name, namespace);
  }

  list(): readonly T[] {
    return this.lw.list();
  }

  health(): WatchCacheHealth {
    return {
      synced: this.synced(),
      brokenSinceMs: this.brokenSinceMs,
      lastError: this.lastError,
      restarts: this.restarts,
    };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    void this.lw.stop();
  }
}
