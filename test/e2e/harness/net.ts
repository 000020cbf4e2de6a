// Loopback-only networking helpers for the e2e cluster.
import { createServer, type Server } from 'node:net';

/**
 * Ports that were free a moment ago on 127.0.0.1. All are held open together so they differ from each other; another
 * process may still take one before the caller binds it, which a later start-up failure would show.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((s) => {
      const address = s.address();
      if (address === null || typeof address === 'string') throw new Error('unexpected listener address');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** A reason to give up at once (a process that exited), or undefined to keep waiting. */
  fatal?: () => string | undefined;
  /** Extra context for the timeout message, such as a log tail. */
  describe?: () => string;
}

/**
 * Calls `probe` every `intervalMs` until it returns a value other than undefined; throws after `timeoutMs` or as soon
 * as `fatal` names a reason. A probe that throws counts as "not yet"; its last error is kept for the message.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError = '';
  for (;;) {
    const fatal = opts.fatal?.();
    if (fatal !== undefined) {
      throw new Error(`gave up waiting for ${what}: ${fatal}${opts.describe ? `\n${opts.describe()}` : ''}`);
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() >= deadline) {
      const detail = [lastError && `last error: ${lastError}`, opts.describe?.()].filter(Boolean).join('\n');
      throw new Error(
        `timed out after ${opts.timeoutMs / 1000} s waiting for ${what}${detail ? `\n${detail}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 500));
  }
}
