import { readFileSync, statSync } from 'node:fs';
import { systemClock, type Clock } from './clock.js';
import { TokenwardenError } from './errors.js';

/** Where the kubelet mounts a pod's service-account token. */
export const DEFAULT_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface ProjectedTokenSourceOptions {
  readonly clock?: Clock;
  /**
   * A token this close to its `exp` counts as expired (default 10 s), so it does not expire
   * on its way to the server.
   */
  readonly expiryLeewayMs?: number;
}

export interface ProjectedTokenSource {
  /**
   * The current token: re-read when the kubelet has replaced the file, never one that has
   * expired. Throws `ERR_TOKEN_EXPIRED` when the file holds only an expired token (the
   * kubelet stopped rotating it) and `ERR_KEY_FILE` when the file cannot be read.
   */
  token(): string;
}

interface Held {
  readonly token: string;
  /** ms since the epoch; undefined for a token without `exp`. */
  readonly expiresAt: number | undefined;
  /** What identifies the file's content: the kubelet writes a new file and swaps the `..data` symlink. */
  readonly version: string;
}

/** The `exp` of our own token, read without verifying: the holder is not the one to check its signature. */
function expiryOf(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The calling side's token: the pod's projected service-account token file, re-read when
 * the kubelet rotates it. The kubelet writes each version into a new directory and swaps
 * the `..data` symlink atomically, so the file reached through `token` changes inode; one
 * `stat` per call notices that without watchers (which miss events across symlink swaps).
 *
 * @example
 * import { createProjectedTokenSource } from 'tokenwarden/projected-token';
 * const source = createProjectedTokenSource('/var/run/secrets/tokens/api-token');
 * await fetch('https://api.internal/items', { headers: { authorization: `Bearer ${source.token()}` } });
 */
export function createProjectedTokenSource(
  path: string = DEFAULT_TOKEN_PATH,
  options: ProjectedTokenSourceOptions = {},
): ProjectedTokenSource {
  const clock = options.clock ?? systemClock;
  const leeway = options.expiryLeewayMs ?? 10_000;
  let held: Held | undefined;

  const versionOf = (): string => {
    try {
      const s = statSync(path);
      return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (err) {
      throw new TokenwardenError(
        'ERR_KEY_FILE',
        `${path}: cannot read the token (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      );
    }
  };
  const read = (version: string): Held => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8').trim();
    } catch (err) {
      throw new TokenwardenError(
        'ERR_KEY_FILE',
        `${path}: cannot read the token (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      );
    }
    return { token: text, expiresAt: expiryOf(text), version };
  };
  const fresh = (h: Held): boolean => h.expiresAt === undefined || h.expiresAt - leeway > clock.now();

  return {
    token() {
      const version = versionOf();
      if (!held || held.version !== version || !fresh(held)) held = read(version);
      if (!fresh(held)) {
        throw new TokenwardenError(
          'ERR_TOKEN_EXPIRED',
          `${path}: the token has expired and has not been replaced`,
        );
      }
      return held.token;
    },
  };
}
