import type { IncomingMessage } from 'node:http';

export type BodyResult =
  | { ok: true; text: string }
  /** Over the cap, or cut short: the client closed the connection before the whole body arrived. */
  | { ok: false; problem: 'too-large' | 'cut-short' };

const TOO_LARGE: BodyResult = Object.freeze({ ok: false, problem: 'too-large' });
const CUT_SHORT: BodyResult = Object.freeze({ ok: false, problem: 'cut-short' });

/**
 * Reads a request body, refusing it past `max` bytes whatever `Content-Length` or
 * `Transfer-Encoding` claim: a declared length over the cap is refused before a byte is
 * read, and a streamed body is cut off as soon as it passes the cap, so memory per request is bounded.
 * It reads the IncomingMessage directly: a web Request and stream per request measured as
 * the largest single cost of a cached review.
 */
export function readBody(incoming: IncomingMessage, max: number): Promise<BodyResult> {
  const declared = Number(incoming.headers['content-length']);
  if (declared > max) return Promise.resolve(TOO_LARGE);
  // Gone before a listener could hear it: neither 'end' nor 'close' would come.
  if (incoming.destroyed && !incoming.complete) return Promise.resolve(CUT_SHORT);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (result: BodyResult): void => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onCutShort);
      incoming.off('close', onCutShort);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        // Stop buffering; the connection is closed after the 413 goes out.
        incoming.pause();
        settle(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void =>
      settle({
        ok: true,
        text: chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'),
      });
    // Node reports a client that went away mid-body as an 'aborted' error, then 'close'.
    const onCutShort = (): void => settle(CUT_SHORT);
    incoming.on('data', onData);
    incoming.once('end', onEnd);
    incoming.once('error', onCutShort);
    incoming.once('close', onCutShort);
  });
}
