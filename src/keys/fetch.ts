import { readFileSync } from 'node:fs';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'node:https';
import { hostOf } from './address-policy.js';
import { pinHost, systemLookup, type HostLookup } from './pinned-lookup.js';

/**
 * Why a fetch failed, as a small fixed vocabulary: it labels metrics and log lines, and
 * never carries the URL, the response body or the credential: /metrics and logs reach more readers than keys should.
 */
export type FetchFailure =
  | 'timeout'
  | 'too-large'
  | 'status'
  | 'redirect'
  | 'content-type'
  | 'content-encoding'
  | 'network'
  | 'credential'
  | 'refused-address'
  | 'invalid-document'
  | 'empty-key-set';

export class FetchError extends Error {
  constructor(
    readonly reason: FetchFailure,
    message: string,
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

export interface FetchOptions {
  /** Total deadline: connect, headers and the whole body. */
  readonly timeoutMs: number;
  /** Cap on the body bytes read; the response is cut off beyond it. */
  readonly maxBytes: number;
  /** PEM CA bundle trusted for this endpoint instead of Node's default roots. */
  readonly ca?: string;
  /** File holding a bearer token, re-read on every fetch (projected tokens rotate). */
  readonly bearerTokenFile?: string;
  /** Permit plain `http:` (tests and explicit insecure setups only). */
  readonly allowInsecureHttp?: boolean;
  /**
   * Permit a loopback target (127.0.0.0/8, ::1). Link-local, metadata and unspecified
   * addresses are refused whatever this says (address-policy.ts).
   */
  readonly allowLoopback?: boolean;
  /** Resolves the host once per fetch (default `dns.lookup`); the connection is pinned to its answer. */
  readonly lookup?: HostLookup;
  /**
   * A client's credentials, resolved per fetch (a kubeconfig's user: client certificate,
   * bearer or exec token, CA, server name); instead of `ca` and `bearerTokenFile`.
   */
  readonly client?: () => Promise<ClientCredentials>;
  readonly signal?: AbortSignal;
}

/** TLS settings and an Authorization header that a fetch presents, as a Kubernetes client would. */
export type ClientCredentials = Pick<
  HttpsRequestOptions,
  'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'
> & { readonly authorization?: string };

/** The fetch settings a key source holds and passes to each of its requests. */
export type SourceFetchOptions = Pick<
  FetchOptions,
  'ca' | 'bearerTokenFile' | 'allowInsecureHttp' | 'allowLoopback' | 'lookup' | 'client'
>;

/** Only those settings, so a source's other options (timing, logger) never reach a request. */
export function sourceFetchOptions(o: SourceFetchOptions): SourceFetchOptions {
  return {
    ca: o.ca,
    bearerTokenFile: o.bearerTokenFile,
    allowInsecureHttp: o.allowInsecureHttp,
    allowLoopback: o.allowLoopback,
    lookup: o.lookup,
    client: o.client,
  };
}

export interface FetchedDocument {
  readonly body: string;
  /** `Cache-Control: max-age` in ms, when the server sent one. */
  readonly maxAgeMs?: number;
}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** `max-age` from a Cache-Control header; `no-store`/`no-cache` count as 0. */
export function parseMaxAge(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const directives = header
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0;
  for (const d of directives) {
    const m = /^max-age\s*=\s*"?(\d{1,10})"?$/.exec(d);
    if (m) return Number(m[1]) * 1000;
  }
  return undefined;
}

function readBearerToken(path: string): string {
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch {
    throw new FetchError('credential', 'the bearer token file cannot be read');
  }
  if (token === '' || /[\s]/.test(token))
    throw new FetchError('credential', 'the bearer token file holds no usable token');
  return token;
}

/**
 * GET a JSON document for key material, bounded in every way a hostile or broken server
 * could stretch it, which jose's remote JWKS is not: one total deadline that includes the name lookup and the body, a byte
 * cap counted while streaming (so a 200 MiB answer costs at most `maxBytes`), no
 * redirects followed at all (a 3xx is a failure, so the target host never sees a
 * connection), only 200 with a JSON media type, `identity` encoding only (no
 * decompression bombs), no cookies, and HTTPS unless plain HTTP is explicitly allowed.
 * The host is resolved once, its addresses checked and the connection pinned to them
 * (§3.11: no loopback unless allowed, never link-local or metadata, no DNS rebinding).
 * Errors say what went wrong in fixed words.
 */
export function fetchDocument(url: string, options: FetchOptions): Promise<FetchedDocument> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.reject(new FetchError('network', 'the URL is not valid'));
  }
  const isHttps = parsed.protocol === 'https:';
  if (!isHttps && !(parsed.protocol === 'http:' && options.allowInsecureHttp)) {
    return Promise.reject(new FetchError('network', 'only https URLs are fetched'));
  }
  let authorization: string | undefined;
  try {
    if (options.bearerTokenFile !== undefined)
      authorization = `Bearer ${readBearerToken(options.bearerTokenFile)}`;
  } catch (err) {
    return Promise.reject(err);
  }

  return new Promise<FetchedDocument>((resolve, reject) => {
    let settled = false;
    let req: ClientRequest | undefined;
    const finish = (err: Error | undefined, doc?: FetchedDocument): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (err) {
        req?.destroy();
        reject(err);
      } else resolve(doc!);
    };
    const timer = setTimeout(
      () => finish(new FetchError('timeout', `no complete answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    timer.unref();
    const onAbort = (): void => finish(new FetchError('timeout', 'the fetch was aborted'));

    const headers: Record<string, string> = {
      accept: 'application/jwk-set+json, application/json',
      'accept-encoding': 'identity',
      'user-agent': 'tokenwarden',
    };
    if (authorization) headers.authorization = authorization;
    const requestOptions = {
      method: 'GET',
      headers,
      agent: false as const,
      ...(isHttps && options.ca !== undefined ? { ca: options.ca } : {}),
    };
    const onResponse = (res: IncomingMessage): void => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400)
        return finish(new FetchError('redirect', `redirect (HTTP ${status}) refused`));
      if (status !== 200) return finish(new FetchError('status', `HTTP ${status}`));
      const type = res.headers['content-type'];
      if (type !== undefined && !JSON_MEDIA_TYPE.test(type))
        return finish(new FetchError('content-type', 'the answer is not JSON'));
      const encoding = res.headers['content-encoding'];
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
        return finish(new FetchError('content-encoding', 'compressed answers are refused'));
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        return finish(new FetchError('too-large', `the answer exceeds ${options.maxBytes} bytes`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes)
          return finish(new FetchError('too-large', `the answer exceeds ${options.maxBytes} bytes`));
        chunks.push(chunk);
      });
      res.on('error', () => finish(new FetchError('network', 'the connection failed while reading')));
      res.on('aborted', () => finish(new FetchError('network', 'the connection was cut while reading')));
      res.on('end', () => {
        let body: string;
        try {
          body = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
        } catch {
          return finish(new FetchError('invalid-document', 'the answer is not UTF-8'));
        }
        const maxAgeMs = parseMaxAge(res.headers['cache-control']);
        finish(undefined, { body, ...(maxAgeMs === undefined ? {} : { maxAgeMs }) });
      });
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const pinOptions = {
      allowLoopback: options.allowLoopback === true,
      lookup: options.lookup ?? systemLookup,
    };
    Promise.all([pinHost(hostOf(parsed), pinOptions), options.client?.()])
      .then(([target, client]) => {
        if (settled) return; // the deadline passed while the name resolved
        if (!target.ok) {
          return finish(new FetchError(target.refused ? 'refused-address' : 'network', target.message));
        }
        const { authorization: clientAuthorization, ...clientTls } = client ?? {};
        if (clientAuthorization !== undefined) headers.authorization = clientAuthorization;
        req = (isHttps ? httpsRequest : httpRequest)(
          parsed,
          { ...requestOptions, ...(isHttps ? clientTls : {}), lookup: target.lookup },
          onResponse,
        );
        req.on('error', (err: NodeJS.ErrnoException) =>
          finish(new FetchError('network', `connection failed (${err.code ?? 'error'})`)),
        );
        req.end();
      })
      .catch((err: unknown) =>
        finish(err instanceof FetchError ? err : new FetchError('network', 'the request could not be made')),
      );
  });
}
