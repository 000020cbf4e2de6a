import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { internalError } from '../api/outcomes.js';
import type { Metrics } from '../observe/metrics.js';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';
import { ReviewPaths } from './review-routes.js';
import { answerText, type AnswerText } from './review-bytes.js';
import type { ReviewReply, Reviews } from './reviews.js';
import { logUnhandled } from './unhandled.js';

export interface ReviewListenerDeps {
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/**
 * The review endpoints on a bare node listener, in front of `fallback` (the hono app, for
 * the probes, /metrics and every other path): no web Request, Response, URL or context
 * per review; the framework around the same work cost a third more CPU per cached answer
 * than a bare node:https server (docs/benchmarks.md). A review path is matched as the app would route it; each answer
 * is counted on the request metrics under the route's name and echoes the request id.
 */
export function reviewListener(
  reviews: Reviews,
  deps: ReviewListenerDeps,
  fallback: RequestListener,
): RequestListener {
  const paths = new ReviewPaths(reviews.routes);
  const { metrics, logger } = deps;

  return (incoming, res) => {
    const matched = paths.route(incoming);
    if (matched === undefined) return fallback(incoming, res);
    // One clock read for the start; the end is the one the review's access line took.
    const started = performance.now();
    const requestId = requestIdOf(incoming.headers[REQUEST_ID_HEADER]);
    let replied = false;
    const reply = (answer: ReviewReply, at = performance.now()): void => {
      if (replied) return;
      replied = true;
      try {
        metrics.request(matched.route.pattern, answer.status, (at - started) / 1000);
        writeReply(res, requestId, answer, incoming.method === 'HEAD');
        if (!incoming.complete) res.once('finish', () => discardUnread(incoming));
      } catch (err) {
        logUnhandled(logger, err);
        res.destroy();
      }
    };
    const fail = (err: unknown): void => {
      logUnhandled(logger, err);
      reply(internalError());
    };
    try {
      reviews.answer({ incoming, requestId, matched, started }, reply, fail);
    } catch (err) {
      fail(err);
    }
  };
}

const JSON_TYPE = 'application/json';

/**
 * One `writeHead` with the header lines in the order and spelling the hono app writes them
 * (its Headers objects lower-case and sort names), the request id first.
 */
function writeReply(res: ServerResponse, requestId: string, reply: ReviewReply, head: boolean): void {
  if ('text' in reply) return writeText(res, requestId, reply);
  // A refusal's Status: the same lines the list below would write, from an object too.
  if (reply.headers === undefined && !head)
    return writeText(res, requestId, answerText(JSON.stringify(reply.body), 'Content-Type', reply.status));
  const lines = [REQUEST_ID_HEADER, requestId];
  const named = new Map<string, string>([['content-type', JSON_TYPE]]);
  for (const [name, value] of Object.entries(reply.headers ?? {})) named.set(name.toLowerCase(), value);
  for (const name of [...named.keys()].sort()) lines.push(name, named.get(name)!);
  if (head) {
    res.writeHead(reply.status, lines);
    res.end();
    return;
  }
  const body = JSON.stringify(reply.body);
  lines.push('Content-Length', String(Buffer.byteLength(body)));
  res.writeHead(reply.status, lines);
  res.end(body);
}

/**
 * An answer's text after one `writeHead` from an object, never for a HEAD. An object,
 * not a list of lines: node writes a fresh response's object as it stands, in key order and
 * spelling, where a list is first copied into the response's header table (a removeHeader,
 * an appendHeader and a lower-cased name per line): the same bytes, about 0.5 KB less
 * garbage per answer (docs/benchmarks.md).
 */
function writeText(res: ServerResponse, requestId: string, reply: AnswerText): void {
  res.writeHead(
    reply.status,
    reply.typeName === 'content-type'
      ? { [REQUEST_ID_HEADER]: requestId, 'content-type': JSON_TYPE, 'Content-Length': reply.contentLength }
      : { [REQUEST_ID_HEADER]: requestId, 'Content-Type': JSON_TYPE, 'Content-Length': reply.contentLength },
  );
  res.end(reply.text);
}

/** How long, and how much of, a body answered before it was read is read and dropped. */
const DISCARD_MS = 500;
const DISCARD_BYTES = 64 * 1024 * 1024;

/**
 * A body answered before it was read (401, 403, 405, 415): read and dropped, so that the
 * connection can carry the next request, but for half a second and 64 MiB at most; then
 * the connection is closed.
 */
function discardUnread(incoming: IncomingMessage): void {
  if (incoming.destroyed || incoming.complete) return;
  let read = 0;
  const done = (): void => {
    clearTimeout(timer);
    incoming.off('data', onData);
    incoming.off('end', done);
    incoming.off('error', done);
  };
  const close = (): void => {
    done();
    if (!incoming.socket.destroyed) incoming.socket.destroySoon();
  };
  const timer = setTimeout(close, DISCARD_MS);
  timer.unref();
  const onData = (chunk: Buffer): void => {
    read += chunk.length;
    if (read > DISCARD_BYTES) close();
  };
  incoming.on('data', onData);
  incoming.on('end', done);
  incoming.on('error', done);
  incoming.resume();
}
