import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { TokenwardenError } from '../errors.js';
import { watchFiles } from './file-watch.js';

/** A file read now, refusing the start when it cannot be: the message names `setting` and the path. */
export function readSetting(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TokenwardenError(
      'ERR_CONFIG_INVALID',
      `${setting}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
}

/**
 * A parsed file re-read when it changes; a bad reload keeps the last good value and says
 * so in the log. `changed` runs after each new value is in place.
 */
export function watchedFile<T>(
  path: string,
  parse: (text: string) => T,
  options: { watch: boolean; logger?: Logger; what: string; changed?: () => void },
): { get: () => T; close: () => void } {
  let lastText = readFileSync(path, 'utf8');
  let current = parse(lastText);
  const reload = (): void => {
    try {
      const text = readFileSync(path, 'utf8');
      if (text === lastText) return;
      current = parse(text);
      lastText = text;
      options.logger?.info({ what: options.what }, 'reloaded');
      options.changed?.();
    } catch (err) {
      options.logger?.error(
        { what: options.what, err: err instanceof TokenwardenError ? err.message : 'unreadable' },
        'reload failed; keeping the last good version',
      );
    }
  };
  const w = options.watch ? watchFiles([path], reload) : undefined;
  return { get: () => current, close: () => w?.close() };
}
