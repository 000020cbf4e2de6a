import {
  Agent as HttpAgent,
  STATUS_CODES,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Duplex, Readable, Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { Denial, GateRequest, GateResult } from '../proxy/gate.js';
import type { UserInfo } from '../user.js';
import { badGateway, denied, identityNotSendable, internalError } from '../api/outcomes.js';
import { plainResponse, rawHeadersOf, writePlain, type PlainResponse } from './gate-response.js';
import { isIdentityHeader } from './identity-headers.js';
import { identityLineCache, type FlatIdentity } from '../proxy/identity-lines.js';
import { REQUEST_ID_HEADER } from './request-id.js';
import { upstreamPool } from './upstream-pool.js';
import { gateRequestOf, withRequestId } from './gate-request.js';
import type { UpstreamTarget } from './upstream-target.js';

/** How a proxied request ended: forwarded upstream, or answered by the proxy itself. */
export type ProxyOutcome = 'forwarded' | Denial['kind'] | 'upstream-unreachable';

/** What the proxy reports per request (the metrics); every call is cheap and never throws. */
export interface ProxyObserver {
  outcome(outcome: ProxyOutcome): void;
  /** Seconds from a request's arrival to its dispatch upstream. */
  dispatched(seconds: number): void;
  upstreamError(code: string | undefined): void;
}

const NO_OBSERVER: ProxyObserver = { outcome() {}, dispatched() {}, upstreamError() {} };

export interface ProxyOptions {
  readonly upstream: UpstreamTarget;
  /** PEM bundle for an https upstream; default the system roots. */
  readonly upstreamCa?: string;
  readonly gate: (request: GateRequest) => Promise<GateResult>;
  /** `--pass-authorization`: forward the client's `Authorization` (off: the token stays here, so the upstream cannot replay it). */
  readonly passAuthorization?: boolean;
  readonly logger: Logger;
  readonly observer?: ProxyObserver;
}

export interface Proxy {
  /** The listener's `request` handler. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** The listener's `upgrade` handler (WebSocket and any other `Upgrade`). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes the idle upstream connections. */
  close(): void;
}

/**
 * RFC 9110 §7.6.1 connection-specific fields and the ones Go's httputil.ReverseProxy also
 * drops. `transfer-encoding` is handled apart: a chunked request stays chunked (undici frames
 * a body of unknown length as chunked itself; node's client keeps the client's line).
 */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

/** Field names a `Connection` header lists: connection-specific too, dropped. */
function connectionListed(raw: readonly string[]): Set<string> {
  const listed = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) listed.add(token.trim().toLowerCase());
  }
  return listed;
}

/**
 * The request headers an upstream receives: the client's lines in their order and case,
 * without hop-by-hop fields, without anything claiming an identity (in any case: an upstream
 * must never trust a client's own `X-Remote-User`), without `Authorization` unless passed on; then `X-Forwarded-For`, the upgrade
 * fields for an upgrade, and the identity lines last. Dropping what `Connection` lists
 * happens before the identity lines are added, so `Connection: X-Remote-User` cannot
 * remove them (kube-rbac-proxy #319).
 */
function upstreamRequestHeaders(
  req: IncomingMessage,
  identity: readonly string[],
  passAuthorization: boolean,
  upgrade: string | undefined,
  requestId: string,
): string[] {
  // undici frames the body itself and refuses a caller's framing line; node's client keeps it.
  const keepFraming = upgrade !== undefined;
  const raw = req.rawHeaders;
  // Most requests carry no `Connection` line: no second pass over the headers for them.
  const listed = req.headersDistinct.connection === undefined ? undefined : connectionListed(raw);
  const out: string[] = [];
  let forwardedFor = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || isIdentityHeader(lower)) continue;
    if (lower === 'transfer-encoding' ? !keepFraming : listed?.has(lower)) continue;
    if (lower === 'authorization' && !passAuthorization) continue;
    if (lower === REQUEST_ID_HEADER) continue;
    if (lower === 'x-forwarded-for') {
      forwardedFor += `${raw[i + 1]!}, `;
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  const client = req.socket.remoteAddress;
  if (client) out.push('X-Forwarded-For', forwardedFor + client);
  // The id the access line carries, so that the upstream's logs can be joined with ours.
  out.push('X-Request-Id', requestId);
  if (upgrade !== undefined) out.push('Connection', 'Upgrade', 'Upgrade', upgrade);
  for (let i = 0; i < identity.length; i++) out.push(identity[i]!);
  return out;
}

/**
 * Whether a request carries a body: by its framing (RFC 9112 §6.3: a Content-Length other
 * than 0, or a Transfer-Encoding), not by whether node has read it yet.
 */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** Response header lines to send on, and whether they open an event stream. */
interface DownstreamHeaders {
  readonly lines: string[];
  /** The first `Content-Type` line (the one node's `headers` keeps) is `text/event-stream`. */
  readonly eventStream: boolean;
}

const EVENT_STREAM = /^text\/event-stream/i;

const latin1 = (line: string | Buffer): string => (typeof line === 'string' ? line : line.toString('latin1'));

/**
 * Response headers without hop-by-hop fields (node frames the body itself), with the
 * request id unless the upstream answered with its own.
 */
function downstreamResponseHeaders(
  upstreamRaw: readonly (string | Buffer)[],
  requestId: string,
): DownstreamHeaders {
  // undici hands the lines over as bytes; node's headers hold them as latin1 strings, one char a byte.
  const raw = upstreamRaw.map(latin1);
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length && listed === undefined; i += 2)
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') listed = connectionListed(raw);
  const lines: string[] = [];
  let hasId = false;
  let contentType: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'transfer-encoding' || listed?.has(lower)) continue;
    if (lower === REQUEST_ID_HEADER) hasId = true;
    else if (lower === 'content-type') contentType ??= raw[i + 1]!;
    lines.push(raw[i]!, raw[i + 1]!);
  }
  if (!hasId) lines.push('X-Request-Id', requestId);
  return { lines, eventStream: contentType !== undefined && EVENT_STREAM.test(contentType) };
}

/** A response written straight onto a socket that has left HTTP parsing (an upgrade request). */
function sendRaw(socket: Duplex, response: PlainResponse): void {
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? 'Error'}`];
  const raw = rawHeadersOf(response);
  for (let i = 0; i < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  lines.push('connection: close', '', '');
  socket.end(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), Buffer.from(response.body, 'utf8')]));
}

/**
 * `src` into `dst` with backpressure, each destroyed when the other fails or closes early,
 * as `stream.pipeline` does, but without the AbortController pipeline makes per call: its
 * abort on completion builds a DOMException with a captured stack, twice per proxied
 * request, which profiled as the largest JavaScript cost of a cached-token request.
 */
function splice(src: Readable, dst: Writable): void {
  src.on('error', () => dst.destroy());
  dst.on('error', () => src.destroy());
  src.on('close', () => {
    if (!src.readableEnded) dst.destroy();
  });
  dst.on('close', () => {
    if (!dst.writableFinished && !src.readableEnded) src.destroy();
  });
  src.pipe(dst);
}

/**
 * One proxied request's upstream answer, streamed to the client as undici parses it: the
 * status and header lines once, then each chunk with backpressure both ways (undici's parser
 * pauses while the client's socket is full), or a 502 when the upstream cannot be reached.
 * undici's original handler methods, not the newer controller form: that one wraps every
 * request in an adapter and parses the response's lines into an object first.
 */
class Forwarding implements Dispatcher.DispatchHandler {
  private abort: ((err?: Error) => void) | undefined;
  private resume: (() => void) | undefined;
  private answered = false;
  private clientGone = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly requestId: string,
    private readonly method: string | undefined,
    private readonly logger: Logger,
    private readonly observer: ProxyObserver,
  ) {}

  /** The client went away before the answer ended: the upstream request stops too. */
  private readonly clientClosed = (): void => {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    this.abort?.();
  };

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    this.res.once('close', this.clientClosed);
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    // Informational answers (103 Early Hints) stay here, as node's client kept them.
    if (status < 200) return true;
    this.answered = true;
    this.resume = resume;
    this.observer.outcome('forwarded');
    const headers = downstreamResponseHeaders(rawHeaders, this.requestId);
    this.res.writeHead(status, statusText, headers.lines);
    // An event stream's headers go at once (its first event may be minutes away); any other
    // response's go with its first chunk: one packet instead of two, which Nagle and delayed
    // ACKs would otherwise hold back by milliseconds.
    if (headers.eventStream) this.res.flushHeaders();
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    // undici's resume is one function per connection: no closure per request.
    if (this.resume) this.res.once('drain', this.resume);
    return false;
  }

  onComplete(): void {
    this.res.end();
  }

  onError(err: Error & { code?: string }): void {
    if (this.clientGone) return;
    // undici refuses what it cannot send as asked (two Host lines): the client's request, not the upstream, is at fault.
    if (!this.answered && (err.code === 'UND_ERR_INVALID_ARG' || err.code === 'UND_ERR_NOT_SUPPORTED')) {
      this.observer.outcome('bad-request');
      writePlain(this.res, withRequestId(UNFORWARDABLE, this.requestId));
      return;
    }
    this.logger.warn(
      { reqId: this.requestId, code: err.code, method: this.method },
      'upstream request failed',
    );
    this.observer.upstreamError(err.code);
    if (!this.answered) this.observer.outcome('upstream-unreachable');
    writePlain(this.res, withRequestId(UPSTREAM_DOWN, this.requestId));
  }
}

const UPSTREAM_DOWN = plainResponse(badGateway());
const UNSENDABLE = plainResponse(identityNotSendable());
const INTERNAL = plainResponse(internalError());
const UNFORWARDABLE = plainResponse(
  denied({ kind: 'bad-request', message: 'the request cannot be forwarded as sent' }),
);

/**
 * The sidecar's streaming reverse proxy: each request passes the gate, then goes to the
 * upstream with its body streamed (never buffered: backpressure both ways through
 * `pipeline`), over kept-alive connections. Upgrades (WebSocket) are spliced socket to
 * socket after the upstream's 101; Server-Sent Events are ordinary streamed responses.
 * An unreachable upstream is 502 and the proxy keeps serving.
 */
export function createProxy(options: ProxyOptions): Proxy {
  const { upstream, logger } = options;
  const tls = upstream.protocol === 'https:';
  // Upgrades (WebSocket) only: undici fails an upgrade the upstream declines ("bad upgrade"),
  // where the upstream's own answer must reach the client. Proxied requests take the pool.
  const agentOptions = {
    keepAlive: true,
    maxSockets: 1024,
    maxFreeSockets: 256,
    scheduling: 'lifo' as const,
  };
  const agent = tls
    ? new HttpsAgent({
        ...agentOptions,
        ...(options.upstreamCa ? { ca: options.upstreamCa } : {}),
        servername: upstream.host,
      })
    : new HttpAgent(agentOptions);
  const requestFn = tls ? httpsRequest : httpRequest;
  const pool = upstreamPool(upstream, options.upstreamCa);
  const passAuthorization = options.passAuthorization ?? false;
  const observer = options.observer ?? NO_OBSERVER;

  const identityLines = identityLineCache();
  const identityOf = (user: UserInfo | undefined): FlatIdentity =>
    user === undefined ? [] : identityLines(user);

  const { socketPath, host, port } = upstream;
  const open = (req: IncomingMessage, headers: string[]) =>
    requestFn({
      agent,
      method: req.method,
      path: req.url,
      // node accepts the rawHeaders form: every line kept, in order, with its case.
      headers: headers as unknown as Record<string, string>,
      setHost: false,
      ...(socketPath === undefined ? { host, port } : { socketPath }),
    });

  return {
    handleRequest(req, res) {
      const arrived = performance.now();
      const request = gateRequestOf(req);
      const { requestId } = request;
      options.gate(request).then(
        (result) => {
          if (result.outcome === 'deny') {
            observer.outcome(result.denial.kind);
            const response = withRequestId(plainResponse(denied(result.denial)), requestId);
            // The body was not read: the connection cannot carry another request.
            return writePlain(
              res,
              hasBody(req)
                ? { ...response, headers: [...response.headers, ['connection', 'close']] }
                : response,
            );
          }
          const identity = identityOf(result.user);
          if (identity === null) {
            observer.outcome('error');
            return writePlain(res, withRequestId(UNSENDABLE, requestId));
          }
          const headers = upstreamRequestHeaders(req, identity, passAuthorization, undefined, requestId);
          // A request framed without a body (a GET, as most are) sends none: no stream for undici to read.
          const body = hasBody(req) ? req : null;
          const forwarding = new Forwarding(res, requestId, req.method, logger, observer);
          pool.dispatch(
            { method: (req.method ?? 'GET') as Dispatcher.HttpMethod, path: req.url ?? '/', headers, body },
            forwarding,
          );
          observer.dispatched((performance.now() - arrived) / 1000);
        },
        (err: unknown) => {
          logger.error({ errName: err instanceof Error ? err.name : typeof err }, 'proxy gate failed');
          observer.outcome('error');
          writePlain(res, withRequestId(INTERNAL, requestId));
        },
      );
    },

    handleUpgrade(req, socket, head) {
      const arrived = performance.now();
      socket.on('error', () => undefined);
      const request = gateRequestOf(req);
      const { requestId } = request;
      options.gate(request).then(
        (result) => {
          if (result.outcome === 'deny') {
            observer.outcome(result.denial.kind);
            return sendRaw(socket, plainResponse(denied(result.denial)));
          }
          const identity = identityOf(result.user);
          if (identity === null) {
            observer.outcome('error');
            return sendRaw(socket, UNSENDABLE);
          }
          const upstreamReq = open(
            req,
            upstreamRequestHeaders(req, identity, passAuthorization, req.headers.upgrade ?? '', requestId),
          );
          observer.dispatched((performance.now() - arrived) / 1000);
          let answered = false;
          upstreamReq.on('upgrade', (upstreamRes, upstreamSocket, upstreamHead) => {
            answered = true;
            observer.outcome('forwarded');
            const lines = [
              `HTTP/1.1 ${upstreamRes.statusCode ?? 101} ${upstreamRes.statusMessage ?? 'Switching Protocols'}`,
            ];
            const raw = upstreamRes.rawHeaders;
            for (let i = 0; i < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
            // Header strings hold bytes (latin1), as node parsed them: written back byte for byte.
            socket.write(Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'));
            if (upstreamHead.length > 0) socket.write(upstreamHead);
            if (head.length > 0) upstreamSocket.write(head);
            upstreamSocket.on('error', () => socket.destroy());
            socket.on('error', () => upstreamSocket.destroy());
            upstreamSocket.pipe(socket);
            socket.pipe(upstreamSocket);
          });
          // The upstream declined the upgrade: its answer goes back as is, and the connection ends.
          upstreamReq.on('response', (upstreamRes) => {
            answered = true;
            observer.outcome('forwarded');
            const lines = [`HTTP/1.1 ${upstreamRes.statusCode ?? 502} ${upstreamRes.statusMessage ?? ''}`];
            const raw = downstreamResponseHeaders(upstreamRes.rawHeaders, requestId).lines;
            for (let i = 0; i < raw.length; i += 2)
              if (raw[i]!.toLowerCase() !== 'content-length') lines.push(`${raw[i]}: ${raw[i + 1]}`);
            socket.write(Buffer.from(lines.join('\r\n') + '\r\nconnection: close\r\n\r\n', 'latin1'));
            splice(upstreamRes, socket);
          });
          upstreamReq.on('error', (err: NodeJS.ErrnoException) => {
            logger.warn({ reqId: requestId, code: err.code }, 'upstream upgrade failed');
            observer.upstreamError(err.code);
            if (!answered) observer.outcome('upstream-unreachable');
            if (socket.writable) sendRaw(socket, UPSTREAM_DOWN);
          });
          upstreamReq.end();
        },
        () => {
          observer.outcome('error');
          sendRaw(socket, INTERNAL);
        },
      );
    },

    close() {
      agent.destroy();
      void pool.destroy();
    },
  };
}
