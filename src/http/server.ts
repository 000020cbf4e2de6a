import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { TokenwardenError } from '../errors.js';
import type { TlsPolicy } from './tls-policy.js';
import type { Logger } from 'pino';
import { watchFiles, type FileWatch } from '../io/file-watch.js';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile?: string;
}

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
}

/** A listener that is not a hono app: the sidecar proxy, which streams and upgrades. */
export interface RawListener {
  readonly request: RequestListener;
  readonly upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export interface ServerOptions {
  /** The hono app to serve, or `listener` for a raw node handler (one of the two). */
  readonly app?: Hono;
  readonly listener?: RawListener;
  /** Requests may stream for as long as they last (the proxy); otherwise a request must arrive whole within 30 s. */
  readonly streaming?: boolean;
  readonly host: string;
  readonly port: number;
  /** Files to serve and watch, or fixed material (dev mode, tests). */
  readonly tls: TlsFiles | TlsMaterial;
  readonly tlsPolicy?: TlsPolicy;
  readonly logger: Logger;
  /**
   * Listen in this process alone, even in a cluster worker (a worker's listen is otherwise
   * the primary's shared listener, which would also hand it real connections).
   */
  readonly exclusive?: boolean;
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  /**
   * From now on every response says `Connection: close`, so keep-alive clients leave
   * before the listener closes instead of sending their next request into a closing
   * socket (Node resets an idle keep-alive connection on close; the request on it is lost).
   */
  drain(): void;
  /** Stops accepting, lets in-flight requests finish (up to `timeoutMs`), then closes every socket. */
  close(timeoutMs: number): Promise<void>;
  /** Re-reads the TLS files now; returns false (keeping the old pair) when they are unusable. */
  reloadTls(): boolean;
}

function readTls(files: TlsFiles): TlsMaterial {
  return {
    cert: readPem(files.certFile, '--tls-cert-file'),
    key: readPem(files.keyFile, '--tls-private-key-file'),
    ...(files.clientCaFile ? { ca: readPem(files.clientCaFile, 'client CA file') } : {}),
  };
}

/** A file the listener needs; unreadable (missing, a directory, no permission), ERR_SERVING_CERT naming it. */
function readPem(path: string, name: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new TokenwardenError('ERR_SERVING_CERT', `${name}: cannot read ${path} (${code})`, { cause: err });
  }
}

/** kube-apiserver's default: TLS 1.2 and up. */
const DEFAULT_TLS_POLICY: TlsPolicy = { minVersion: 'TLSv1.2' };

function contextOptions(m: TlsMaterial, policy: TlsPolicy = DEFAULT_TLS_POLICY): SecureContextOptions {
  return {
    cert: m.cert,
    key: m.key,
    ...(m.ca ? { ca: m.ca } : {}),
    minVersion: policy.minVersion,
    ...(policy.ciphers === undefined ? {} : { ciphers: policy.ciphers }),
  };
}

/** OpenSSL's reason without its `error:0A00018F:SSL routines::` prefix. */
function opensslReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^error:[0-9A-F]+:[^:]*::?/, '');
}

/**
 * Throws ERR_SERVING_CERT, naming the file, on an empty, broken or mismatched pair.
 * createSecureContext alone accepts an empty certificate or key (it just leaves them
 * out), after which every handshake fails; kube's dynamic certificates ignore empty
 * files the same way.
 */
function checkPair(m: TlsMaterial, files?: TlsFiles): void {
  const certName = files ? `--tls-cert-file ${files.certFile}` : 'the serving certificate';
  const keyName = files ? `--tls-private-key-file ${files.keyFile}` : 'the serving key';
  const fail = (message: string, cause?: unknown): never => {
    throw new TokenwardenError('ERR_SERVING_CERT', message, cause === undefined ? undefined : { cause });
  };
  if (m.cert.trim() === '') fail(`${certName}: empty`);
  if (m.key.trim() === '') fail(`${keyName}: empty`);
  try {
    new X509Certificate(m.cert);
  } catch (err) {
    fail(`${certName}: not a PEM certificate (${opensslReason(err)})`, err);
  }
  try {
    createPrivateKey(m.key);
  } catch (err) {
    fail(`${keyName}: not a PEM private key (${opensslReason(err)})`, err);
  }
  try {
    createSecureContext(contextOptions(m));
  } catch (err) {
    const reason = opensslReason(err);
    fail(
      reason.includes('key values mismatch')
        ? `${certName} does not match ${keyName}: the certificate is not for this private key`
        : `${certName}, ${keyName}: ${reason}`,
      err,
    );
  }
}

/** A listen failure an operator can act on, naming the address and the flags that set it. */
export function listenError(err: unknown, host: string, port: number): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const why =
    code === 'EADDRINUSE'
      ? 'address already in use'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EADDRNOTAVAIL'
          ? 'address not available on this host'
          : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
            ? 'no such host'
            : undefined;
  if (why === undefined) return err as Error;
  return new TokenwardenError(
    'ERR_LISTEN',
    `cannot listen on ${address} (--bind-address, --secure-port): ${why}`,
    {
      cause: err,
    },
  );
}

/**
 * The HTTPS listener. Timeouts are set for a webhook, whose answers take microseconds: slow or idle
 * clients are cut off long before they can hold the server. With a client CA the server
 * asks for a certificate but does not require one: kube-apiserver sends its certificate
 * only when asked, and Vault and apps authenticate with bearer tokens instead.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  const fromFiles = 'certFile' in options.tls;
  let material = fromFiles ? readTls(options.tls as TlsFiles) : (options.tls as TlsMaterial);
  // Fails fast on a mismatched pair, before the listener opens.
  checkPair(material, fromFiles ? (options.tls as TlsFiles) : undefined);

  const serverOptions = {
    ...contextOptions(material, options.tlsPolicy),
    requestCert: material.ca !== undefined,
    rejectUnauthorized: false,
    handshakeTimeout: 10_000,
    headersTimeout: 10_000,
    // A proxied upload may take as long as the app allows; a review body never takes 30 s.
    requestTimeout: options.streaming ? 0 : 30_000,
    keepAliveTimeout: 30_000,
    connectionsCheckingInterval: 2_000,
    maxHeaderSize: 16 * 1024,
    ALPNProtocols: ['http/1.1'],
  };
  let server: Server;
  if (options.listener) {
    server = createServer(serverOptions, options.listener.request);
    if (options.listener.upgrade) server.on('upgrade', options.listener.upgrade);
  } else if (options.app) {
    server = createAdaptorServer({ fetch: options.app.fetch, createServer, serverOptions }) as Server;
  } else {
    throw new TypeError('startServer: app or listener is required');
  }
  server.maxHeadersCount = 200;
  server.maxConnections = 10_000;
  server.on('tlsClientError', () => {
    // A failed handshake is the client's problem; counting it is enough, crashing is not an option.
  });

  let draining = false;
  // Added when draining starts, not before: a second 'request' listener costs every request
  // a copy of the listener list. Before the app's listener: a handler that answers at once
  // has sent its headers by the time a later listener runs, and setHeader then throws out of the event.
  const startDraining = (): void => {
    if (draining) return;
    draining = true;
    server.prependListener('request', (_req, res) => {
      if (!res.headersSent) res.setHeader('Connection', 'close');
    });
  };

  const reloadTls = (): boolean => {
    if (!fromFiles) return false;
    try {
      const next = readTls(options.tls as TlsFiles);
      if (next.cert === material.cert && next.key === material.key && next.ca === material.ca) return true;
      // An empty, broken or mismatched pair throws: keep the old one then.
      checkPair(next);
      server.setSecureContext(contextOptions(next, options.tlsPolicy));
      material = next;
      logger.info('serving certificate reloaded');
      return true;
    } catch {
      logger.error('serving certificate reload failed; keeping the current certificate');
      return false;
    }
  };
  let watch: FileWatch | undefined;
  if (fromFiles) {
    const f = options.tls as TlsFiles;
    watch = watchFiles([f.certFile, f.keyFile, ...(f.clientCaFile ? [f.clientCaFile] : [])], reloadTls);
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      watch?.close();
      reject(listenError(err, options.host, options.port));
    };
    server.once('error', onError);
    server.listen({ port: options.port, host: options.host, exclusive: options.exclusive ?? false }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    server,
    port,
    reloadTls,
    drain: startDraining,
    close(timeoutMs) {
      startDraining();
      watch?.close();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, timeoutMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
