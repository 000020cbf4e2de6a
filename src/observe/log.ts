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
 * pool, whose thread and wake-ups share the server's core, and each write still costs the
 * main thread a hand-off, so fewer and larger writes cost less (docs/benchmarks.md). Flushed
 * and awaited on SIGTERM, so the last lines are never lost on a stop; what a SIGKILL can lose
 * is bounded by the flush interval, not by the batch.
 */
const LOG_BATCH_BYTES = 12 * 1024;
const LOG_FLUSH_MS = 250;
/** sonic-boom's own cap on one write. */
const MAX_WRITE = 16 * 1024;

/** The batch written at once under a cap of `maxWrite` bytes a write: sonic-boom needs it below the cap. */
export function batchBytes(maxWrite = MAX_WRITE): number {
  return Math.min(LOG_BATCH_BYTES, maxWrite - 1024);
}

/** The parts of sonic-boom 4's utf8 mode that its own `write` (index.js) uses. */
interface SonicBoomState {
  destroyed: boolean;
  _len: number;
  readonly _bufs: string[];
  readonly _hwm: number;
  readonly _writing: boolean;
  readonly maxLength: number;
  readonly maxWrite: number;
  readonly minLength: number;
  _actualWrite(): void;
  emit(event: 'drop', data: string): boolean;
}

/**
 * sonic-boom's `write`, less one cost: before appending a line to the batch it measures
 * the UTF-8 length of the whole batch so far (`Buffer.byteLength` of a string built by
 * `+=`, which V8 flattens first), 2–3 µs a line at 3 KB batches, the largest part of an
 * access line's cost (docs/benchmarks.md). Here the batch's length is carried along with
 * it. It is trusted only while the last buffer is the very string it was measured for:
 * sonic-boom itself may replace that buffer (`flush` pushes an empty one, `flushSync`
 * puts back a part-written one), and then it is measured as before. Everything else
 * (when to write, the `maxWrite` cap that never splits a line, flushes, the exit hook
 * pino registers, EPIPE) stays sonic-boom's and pino's.
 */
function measuredWrite(stream: SonicBoomState): (data: string) => boolean {
  let measured = '';
  let measuredBytes = 0;
  return function write(data) {
    if (stream.destroyed) throw new Error('SonicBoom destroyed');
    const line = `${data}`;
    const bytes = Buffer.byteLength(line);
    const len = stream._len + bytes;
    const bufs = stream._bufs;
    if (stream.maxLength && len > stream.maxLength) {
      stream.emit('drop', line);
      return stream._len < stream._hwm;
    }
    const n = bufs.length;
    const lastBytes =
      n === 0 ? 0 : bufs[n - 1] === measured ? measuredBytes : Buffer.byteLength(bufs[n - 1]!);
    if (n === 0 || lastBytes + bytes > stream.maxWrite) {
      bufs.push(line);
      measured = line;
      measuredBytes = bytes;
    } else {
      measured = bufs[n - 1] + line;
      measuredBytes = lastBytes + bytes;
      bufs[n - 1] = measured;
    }
    stream._len = len;
    if (!stream._writing && stream._len >= stream.minLength) stream._actualWrite();
    return stream._len < stream._hwm;
  };
}

/** An fd, asynchronous and batched; `maxWrite` caps one write (default 16 KiB, as sonic-boom's). */
export function batchedDestination(fd: number, maxWrite?: number): DestinationStream {
  const stream = pino.destination({
    dest: fd,
    sync: false,
    minLength: batchBytes(maxWrite),
    periodicFlush: LOG_FLUSH_MS,
    ...(maxWrite === undefined ? {} : { maxWrite }),
  });
  // sonic-boom sets `write` on the instance itself, per content mode; this replaces it the same way.
  stream.write = measuredWrite(stream as unknown as SonicBoomState);
  return stream;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tokenwarden' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    },
    // Asynchronous writes keep logging off the request's critical path; flushed at exit.
    destination ?? batchedDestination(1),
  );
}

/**
 * stdout shared by the workers of `serve --workers N`. POSIX makes a pipe write of at most
 * PIPE_BUF bytes (4096 on Linux) atomic, and sonic-boom never splits a line across writes:
 * capping each write there keeps every worker's lines whole on the container's log pipe.
 */
export function sharedStdout(): DestinationStream {
  return batchedDestination(1, 4096);
}
