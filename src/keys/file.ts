import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { TokenwardenError } from '../errors.js';
import { watchFiles, type FileWatch } from '../io/file-watch.js';
import {
  makeSnapshot,
  type KeySnapshot,
  type KeySource,
  type KeySourceHealth,
  type VerificationKey,
} from './key-source.js';
import { MAX_KEYS_PER_SOURCE, parseKeyFile } from './parse.js';

export interface FileKeySourceOptions {
  readonly paths: readonly string[];
  readonly logger?: Logger;
  /** Watch the files and reload on change (off for one-shot commands such as `verify`). */
  readonly watch?: boolean;
  readonly resyncMs?: number;
  readonly clockNow?: () => number;
}

interface LoadedFiles {
  readonly digest: string;
  readonly keys: VerificationKey[];
  readonly skipped: string[];
}

function readAll(paths: readonly string[]): LoadedFiles {
  const hash = createHash('sha256');
  const keys: VerificationKey[] = [];
  const skipped: string[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new TokenwardenError('ERR_KEY_FILE', `${path}: cannot read key file (${reason})`);
    }
    hash.update(path).update('\0').update(text).update('\0');
    const parsed = parseKeyFile(text, path);
    keys.push(...parsed.keys);
    skipped.push(...parsed.skipped);
  }
  if (keys.length > MAX_KEYS_PER_SOURCE) {
    throw new TokenwardenError(
      'ERR_KEY_FILE',
      `${paths.join(', ')}: ${keys.length} keys exceed the limit of ${MAX_KEYS_PER_SOURCE}`,
    );
  }
  return { digest: hash.digest('hex'), keys, skipped };
}

/**
 * Keys from `--service-account-key-file`s. The first load is synchronous and fatal on
 * error (exit 2 at start); later reloads keep the last good keys when a file turns
 * unreadable or invalid (a truncated write, a wrong key), and say so in health().
 */
export class FileKeySource implements KeySource {
  readonly name: string;
  private current: KeySnapshot;
  private digest: string;
  private readonly listeners = new Set<(s: KeySnapshot) => void>();
  private readonly watcher: FileWatch | undefined;
  private lastSuccess: number;
  private lastError: string | undefined;
  private loads = 1;
  private loadFailures = 0;
  private readonly now: () => number;

  constructor(private readonly options: FileKeySourceOptions) {
    this.name = `file:${options.paths.join(',')}`;
    this.now = options.clockNow ?? Date.now;
    const loaded = readAll(options.paths);
    this.logSkipped(loaded.skipped);
    this.digest = loaded.digest;
    this.current = makeSnapshot(loaded.keys, 1);
    this.lastSuccess = this.now();
    this.watcher = options.watch
      ? watchFiles(
          options.paths,
          () => this.reload(),
          options.resyncMs === undefined ? {} : { resyncMs: options.resyncMs },
        )
      : undefined;
  }

  snapshot(): KeySnapshot {
    return this.current;
  }

  refreshForKid(): Promise<KeySnapshot> {
    return Promise.resolve(this.current);
  }

  onChange(listener: (s: KeySnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  health(): KeySourceHealth {
    return {
      name: this.name,
      ready: true,
      keyCount: this.current.keys.length,
      lastSuccess: this.lastSuccess,
      loads: this.loads,
      loadFailures: this.loadFailures,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Re-reads the files; returns true when the key set changed. Never throws. */
  reload(): boolean {
    let loaded: LoadedFiles;
    try {
      loaded = readAll(this.options.paths);
    } catch (err) {
      const message = err instanceof TokenwardenError ? err.message : 'key files could not be loaded';
      if (message !== this.lastError)
        this.options.logger?.error(
          { source: this.name, err: message },
          'key reload failed; keeping the last good keys',
        );
      this.lastError = message;
      this.loadFailures++;
      return false;
    }
    this.lastError = undefined;
    this.lastSuccess = this.now();
    this.loads++;
    if (loaded.digest === this.digest) return false;
    this.logSkipped(loaded.skipped);
    this.digest = loaded.digest;
    this.current = makeSnapshot(loaded.keys, this.current.generation + 1);
    this.options.logger?.info({ source: this.name, keys: loaded.keys.length }, 'keys reloaded');
    for (const l of this.listeners) l(this.current);
    return true;
  }

  private logSkipped(skipped: readonly string[]): void {
    for (const s of skipped) this.options.logger?.warn({ source: this.name }, s);
  }

  close(): void {
    this.watcher?.close();
  }
}
