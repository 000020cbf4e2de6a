import type { Logger } from 'pino';
import { createLogger } from '../../src/observe/log.js';

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface CapturedLogs {
  readonly logger: Logger;
  /** Every line written so far, parsed back into objects (as pino's test/helper.js). */
  readonly lines: LogLine[];
  /** The raw text written so far: what an operator's log pipeline would hold. */
  text(): string;
  /** Resolves with the first matching line written from now on (call it before the action that logs). */
  next(match: (line: LogLine) => boolean): Promise<LogLine>;
}

/** A real tokenwarden logger (same redaction, same level names) writing into memory. */
export function captureLogs(level = 'trace'): CapturedLogs {
  const lines: LogLine[] = [];
  const chunks: string[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  const logger = createLogger(level, {
    write(chunk: string) {
      chunks.push(chunk);
      for (const text of chunk.split('\n')) {
        if (text.trim() === '') continue;
        const line = JSON.parse(text) as LogLine;
        lines.push(line);
        for (const w of waiters.filter((x) => x.match(line))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    },
  });
  return {
    logger,
    lines,
    text: () => chunks.join(''),
    next(match) {
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

/**
 * The pieces of `token` (the whole, each segment) found in `text`. Pieces shorter than
 * 16 characters are not looked for: they turn up in any text by chance.
 */
export function leakedSecrets(text: string, token: string): string[] {
  return [token, ...token.split('.')].filter((s) => s.length >= 16 && text.includes(s));
}

/**
 * Remembers every token a suite sends, so that responses and logs can be checked for
 * them: every log line and response is searched for each token segment.
 */
export class SentTokens {
  private readonly tokens: string[] = [];

  add(token: string): string {
    this.tokens.push(token);
    return token;
  }

  /** The secrets found in `text`; an empty list is the only good answer. */
  leaksIn(text: string): string[] {
    return this.tokens.flatMap((t) => leakedSecrets(text, t));
  }
}
