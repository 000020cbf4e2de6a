import type { IncomingMessage } from 'node:http';

export type BodyResult =
  | { ok: true; text: string }
  /** Over the cap, or cut short: the client closed the connection before the whole body arrived. */
  | { ok: false; problem: 'too-large' | 'cut-short' };

const TOO_LARGE: BodyResult = Object.freeze({ ok: false, problem: 'too-large' });
const CUT_SHORT: BodyResult = Object.freeze({ ok: false, problem: 'cut-short' });

/**
 * Reads a request body and hands it to `done`, exactly once, refusing it past `max` bytes
 * whatever `Content-Length` or `Transfer-Encoding` claim: a declared length over the cap is
 * refused before a byte is read (and `done` called at once), and a streamed body is cut off
 * as soon as it passes the cap, so memory per request is bounded.
 *
 * It reads the IncomingMessage directly (a web Request and stream per request measured as
 * the largest single cost of a cached review), and calls `done` from the stream's own
 * 'end' rather than through a promise, so that a review that needs nothing else to wait
 * for is answered in the same turn (docs/benchmarks.md). Its listeners stay on the
 * request, which is dropped after its answer, and ignore whatever comes after the result
 * (a 'close' after 'end', the rest of a refused body that is read and dropped).
 */
export function readBody(incoming: IncomingMessage, max: number, done: (result: BodyResult) => void): void {
  const declared = Number(incoming.headers['content-length']);
  if (declared > max) return done(TOO_LARGE);
  // Gone before a listener could hear it: neither 'end' nor 'close' would come.
  if (incoming.destroyed && !incoming.complete) return done(CUT_SHORT);
  let first: Buffer | undefined;
  let rest: Buffer[] | undefined;
  let size = 0;
  let settled = false;
  const settle = (result: BodyResult): void => {
    if (settled) return;
    settled = true;
    first = rest = undefined;
    done(result);
  };
  incoming.on('data', (chunk: Buffer) => {
    if (settled) return;
    size += chunk.length;
    if (size > max) {
      // Stop buffering; the connection is closed after the 413 goes out.
      incoming.pause();
      settle(TOO_LARGE);
    } else if (first === undefined) first = chunk;
    else (rest ??= [first]).push(chunk);
  });
  incoming.on('end', () => {
    if (settled) return;
    const text = rest ? Buffer.concat(rest).toString('utf8') : (first?.toString('utf8') ?? '');
    settle({ ok: true, text });
  });
  // Node reports a client that went away mid-body as an 'aborted' error, then 'close'.
  const cutShort = (): void => settle(CUT_SHORT);
  incoming.on('error', cutShort);
  incoming.on('close', cutShort);
}
