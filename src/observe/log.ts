import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Paths a token could ever sit at. Redaction is a second line of defence only: code
 * never puts a token into a log object or message in the first place (a bearer token in a log is a credential anyone with the logs can use).
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'headers.authorization',
  'spec.token',
  'body.spec.token',
  'token',
  '*.token',
];

/**
 * Lines are gathered up to this many bytes before one asynchronous write, and written at
 * least every LOG_FLUSH_MS: a write per line handed every access line to libuv's thread
 * pool, whose thread and wake-ups share the server's core (docs/benchmarks.md). Flushed and
 * awaited on SIGTERM, so the last lines are never lost on a stop.
 */
const LOG_BATCH_BYTES = 3072;
const LOG_FLUSH_MS = 250;

/** stdout, asynchronous and batched; `maxWrite` caps one write (default 16 KiB). */
function stdout(maxWrite?: number): DestinationStream {
  return pino.destination({
    dest: 1,
    sync: false,
    minLength: LOG_BATCH_BYTES,
    periodicFlush: LOG_FLUSH_MS,
    ...(maxWrite === undefined ? {} : { maxWrite }),
  });
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tokenwarden' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    },
    // Asynchronous writes keep logging off the request's critical path; flushed at exit.
    destination ?? stdout(),
  );
}

/**
 * stdout shared by the workers of `serve --workers N`. POSIX makes a pipe write of at most
 * PIPE_BUF bytes (4096 on Linux) atomic, and sonic-boom never splits a line across writes:
 * capping each write there keeps every worker's lines whole on the container's log pipe.
 */
export function sharedStdout(): DestinationStream {
  return stdout(4096);
}
