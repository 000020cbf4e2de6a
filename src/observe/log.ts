import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Paths a token could ever sit at. Redaction is a second line of defence only: code
 * never puts a token into a log object or message in the first place (security.md §3.6).
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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tokenwarden' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    },
    // Asynchronous writes keep logging off the request's critical path; flushed at exit.
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
