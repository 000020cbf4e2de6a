import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
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
 * Lines are gathered up to this many bytes before one write, and written at least every
 * LOG_FLUSH_MS: fewer and larger writes cost less (docs/benchmarks.md). Flushed and awaited
 * on SIGTERM, so the last lines are never lost on a stop; what a SIGKILL can lose is bounded
 * by the flush interval, not by the batch.
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
  _writing: boolean;
  /** The bytes of the write under way, or an empty buffer. */
  _writingBuf: Buffer;
  readonly maxLength: number;
  readonly maxWrite: number;
  readonly minLength: number;
  /** Writes what is left of `_writingBuf`, else the first batch; sonic-boom's is an `fs.write` in the thread pool. */
  _actualWrite(): void;
  /** sonic-boom's end of a write of `n` bytes: the rest of a short write, the next batch, 'drain', close. */
  release(err: NodeJS.ErrnoException | null, n?: number): void;
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

/**
 * Each batch written at once from the main thread to `direct`, an fd that cannot block it,
 * instead of by sonic-boom's `fs.write` in libuv's thread pool: a hand-off per batch woke a
 * pool thread that shares the server's one core and took it from the request in hand, about
 * 0.5 µs per access line in all (docs/benchmarks.md). What `direct` takes only in part, or not
 * at all for now (EAGAIN: a pipe's reader is behind), is finished by sonic-boom's own
 * asynchronous write to the stream's fd, which waits in the pool until the reader takes it, as
 * every write did before, with the next batches behind it. An error goes where sonic-boom
 * sends one, when the pool write's did.
 */
function directWrite(stream: SonicBoomState, direct: number): () => void {
  const queued = stream._actualWrite;
  return function actualWrite() {
    stream._writing = true;
    if (stream._writingBuf.length === 0) {
      // sonic-boom's `mergeBuf`: a batch of one buffer (every batch slabWrite builds) is written as it is.
      const parts = stream._bufs.shift() ?? [];
      const len = stream._lens.shift() ?? 0;
      stream._writingBuf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, len);
    }
    let n: number;
    try {
      n = writeSync(direct, stream._writingBuf);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return queued.call(stream);
      // After this turn, as the pool write's error came: never thrown at the line's caller (a review).
      process.nextTick(() => stream.release(err as NodeJS.ErrnoException));
      return;
    }
    stream.release(null, n);
  };
}

/**
 * An fd to write `fd`'s batches to from the main thread, when there is one that cannot block
 * it: a regular file or a character device (/dev/null, a terminal, as node writes its own
 * stdout to them) is `fd` itself; a pipe (a container's stdout) is opened again as a
 * description of our own with O_NONBLOCK, so that a full pipe answers EAGAIN rather than
 * stopping the event loop, and `fd` and other writers to the pipe keep their mode. Undefined
 * for anything else (a socket) and for a pipe that cannot be opened again (no /proc, no
 * reader): its batches keep to the thread pool.
 */
function directFd(fd: number): number | undefined {
  try {
    const stat = fstatSync(fd);
    if (stat.isFile() || stat.isCharacterDevice()) return fd;
    if (!stat.isFIFO()) return undefined;
    return openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}

/**
 * An fd, batched, each batch written from the main thread when that cannot block it (see
 * `directFd`) and else asynchronously; `maxWrite` caps one write (default 16 KiB, as sonic-boom's).
 */
export function batchedDestination(fd: number, maxWrite?: number): DestinationStream {
  const direct = directFd(fd);
  const stream = pino.destination({
    dest: fd,
    sync: false,
    minLength: batchBytes(maxWrite),
    periodicFlush: LOG_FLUSH_MS,
    contentMode: 'buffer',
    ...(maxWrite === undefined ? {} : { maxWrite }),
  });
  const state = stream as unknown as SonicBoomState;
  // sonic-boom sets `write` and `_actualWrite` on the instance itself, per content mode and
  // sync flag; these replace them the same way.
  stream.write = slabWrite(state);
  if (direct !== undefined) {
    state._actualWrite = directWrite(state, direct);
    // A pipe's description opened again is ours to close, after the stream's last write.
    if (direct !== fd) stream.once('close', () => closeSync(direct));
  }
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
