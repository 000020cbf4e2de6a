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

/** The parts of sonic-boom 4's buffer mode that its own `write` (index.js, `writeBuffer`) uses. */
interface SonicBoomState {
  destroyed: boolean;
  _len: number;
  readonly _bufs: Buffer[][];
  readonly _lens: number[];
  readonly _hwm: number;
  readonly _writing: boolean;
  readonly maxLength: number;
  readonly maxWrite: number;
  readonly minLength: number;
  _actualWrite(): void;
  emit(event: 'drop', data: string): boolean;
}

/** Lines are encoded into slabs of this size, each region written once and never reused. */
const SLAB_BYTES = 64 * 1024;

/**
 * sonic-boom's buffer-mode `write`, with each line encoded at once into a slab of memory
 * outside V8's heap instead of kept as a string. Lines wait in the batch until its write,
 * and with strings the batch and the write in flight stayed in the heap long enough to
 * survive young-generation collections: promoted, they filled the old generation and
 * brought on mark-compacts, whose marking shares the server's one core (~10× fewer bytes
 * promoted per scavenge without them; docs/benchmarks.md). A batch is one view of its
 * slab, grown line by line: sonic-boom writes a batch of one buffer as it is, with no copy.
 * A view is extended only while it is the very one this write put last; when sonic-boom has
 * put something else there (`flush` pushes an empty batch), the next line starts a new
 * batch, as sonic-boom's own write would. Everything else (when to write, the `maxWrite`
 * cap that never splits a line, flushes, the exit hook pino registers, EPIPE) stays
 * sonic-boom's and pino's.
 */
function slabWrite(stream: SonicBoomState): (data: string) => boolean {
  let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  let used = 0;
  let batch: Buffer | undefined;
  let batchStart = 0;
  return function write(data) {
    if (stream.destroyed) throw new Error('SonicBoom destroyed');
    const line = `${data}`;
    // At most 3 UTF-8 bytes per UTF-16 unit: room for that, or a fresh slab (or a buffer of the line's own).
    const room = line.length * 3;
    // Whether the line's bytes are in the slab (then the batch may grow over them).
    const ours = room <= SLAB_BYTES;
    let bytes: Buffer;
    if (!ours) {
      bytes = Buffer.from(line);
      batch = undefined;
    } else {
      if (SLAB_BYTES - used < room) {
        slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
        used = 0;
        batch = undefined;
      }
      bytes = slab.subarray(used, used + slab.write(line, used));
    }
    const n = bytes.length;
    const len = stream._len + n;
    if (stream.maxLength && len > stream.maxLength) {
      stream.emit('drop', line);
      return stream._len < stream._hwm;
    }
    const bufs = stream._bufs;
    const lens = stream._lens;
    const last = bufs.length - 1;
    if (last >= 0 && lens[last]! + n <= stream.maxWrite) {
      // Joins the last batch, as sonic-boom's own write decides.
      const parts = bufs[last]!;
      if (ours && batch !== undefined && parts.length === 1 && parts[0] === batch) {
        batch = slab.subarray(batchStart, used + n);
        parts[0] = batch;
      } else if (ours && parts.length === 0) {
        batch = bytes;
        batchStart = used;
        parts.push(bytes);
      } else {
        parts.push(bytes);
        batch = undefined;
      }
      lens[last]! += n;
    } else {
      bufs.push([bytes]);
      lens.push(n);
      batch = ours ? bytes : undefined;
      batchStart = used;
    }
    if (ours) used += n;
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
    contentMode: 'buffer',
    ...(maxWrite === undefined ? {} : { maxWrite }),
  });
  // sonic-boom sets `write` on the instance itself, per content mode; this replaces it the same way.
  stream.write = slabWrite(stream as unknown as SonicBoomState);
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
