import type { Logger } from 'pino';

/**
 * Logs an error nothing expected, without its message: an error thrown deep in a parser may
 * quote its input.
 */
export function logUnhandled(logger: Logger, err: unknown): void {
  const e = err instanceof Error ? err : undefined;
  logger.error(
    { errName: e?.name, stack: e?.stack?.split('\n').slice(1, 6).join('\n') },
    'unhandled error in request',
  );
}
