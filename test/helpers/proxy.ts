import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { startProxyService, type RunningProxy } from '../../src/compose/run-proxy.js';
import { proxyServiceOptions } from '../../src/config/options.js';
import { loadConfig } from '../../src/config/load.js';
import { suiteDir, writeFile } from './files.js';
import { rsaKey, type TestKey } from './keys.js';
import { captureLogs, type CapturedLogs } from './logs.js';
import { sharedTls } from './tls.js';
import { boundClaims, mintToken } from './tokens.js';
import { afterAll, beforeAll } from 'vitest';
import { loopbackFlags } from './server.js';

/** What an upstream received: the request line and every header line as sent. */
export interface Recorded {
  readonly method: string;
  readonly url: string;
  /** Node's rawHeaders: name, value, name, value… in order and case. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

export interface RecordingUpstream {
  readonly port: number;
  readonly url: string;
  readonly received: Recorded[];
  /** Lower-case header name → every value, in order. */
  headerLines(r: Recorded, name: string): string[];
  close(): Promise<void>;
}

/**
 * A plain HTTP upstream on 127.0.0.1 that records what reaches it and answers 200 with
 * `upstream ok`, unless `handler` answers (it gets the request after the body was read).
 */
export async function recordingUpstream(
  handler?: (req: IncomingMessage, res: ServerResponse, body: Buffer) => boolean,
): Promise<RecordingUpstream & { server: Server }> {
  const received: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: [...req.rawHeaders], body });
      if (handler?.(req, res, body)) return;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('upstream ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    received,
    headerLines(r, name) {
      const out: string[] = [];
      for (let i = 0; i < r.rawHeaders.length; i += 2)
        if (r.rawHeaders[i]!.toLowerCase() === name) out.push(r.rawHeaders[i + 1]!);
      return out;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RawResponse {
  readonly status: number;
  readonly rawHeaders: readonly string[];
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/**
 * One HTTPS request with headers given as node's flat raw list, so a test can send the
 * same name twice, in any case.
 */
export function rawHttps(options: {
  port: number;
  ca: string;
  method?: string;
  path: string;
  headers?: readonly string[];
  body?: string | Buffer;
  /** A client certificate (PEM) and its key to present. */
  clientCert?: { readonly cert: string; readonly key: string };
}): Promise<RawResponse> {
  // With headers given as a list node adds no Host of its own, and HTTP/1.1 needs one.
  const headers = ['Host', `127.0.0.1:${options.port}`, ...(options.headers ?? [])];
  if (options.body !== undefined) headers.push('content-length', String(Buffer.byteLength(options.body)));
  return new Promise((resolve, reject) => {
    const r = request(
      {
        host: '127.0.0.1',
        port: options.port,
        ca: options.ca,
        method: options.method ?? 'GET',
        path: options.path,
        headers: headers as unknown as Record<string, string>,
        agent: false,
        ...options.clientCert,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            rawHeaders: res.rawHeaders,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    r.on('error', reject);
    r.end(options.body);
  });
}

export interface TestProxy {
  readonly port: number;
  readonly ca: string;
  readonly logs: CapturedLogs;
  readonly dir: string;
  readonly running: RunningProxy;
  request(options: {
    method?: string;
    path: string;
    headers?: readonly string[];
    body?: string | Buffer;
    clientCert?: { readonly cert: string; readonly key: string };
  }): Promise<RawResponse>;
  close(): Promise<void>;
}

/** `tokenwarden proxy` wired from flags, as the command wires it, on 127.0.0.1 port 0 with logs captured. */
export async function startTestProxy(options: {
  upstream: string;
  flags?: readonly string[];
  keys?: readonly TestKey[];
  /** Files written into the proxy's directory before start, by name (RBAC policy, kube-rbac-proxy config). */
  files?: Readonly<Record<string, string>>;
}): Promise<TestProxy> {
  const { dir, remove } = suiteDir('tokenwarden-proxy-');
  const keyFile = writeFile(dir, 'sa.pub', (options.keys ?? [rsaKey()]).map((k) => k.publicPem).join(''));
  for (const [name, text] of Object.entries(options.files ?? {})) writeFile(dir, name, text);
  const flags = (options.flags ?? []).map((f) => f.replaceAll('$DIR', dir));
  const config = loadConfig('proxy', [...loopbackFlags(keyFile), '--upstream', options.upstream, ...flags]);
  const logs = captureLogs('trace');
  const tls = await sharedTls();
  const service = proxyServiceOptions(config);
  // The shared serving pair stands in for serving files; --client-ca-file still makes the listener ask for certificates.
  const { clientCaFile } = config;
  const running = await startProxyService({
    ...service,
    listen: {
      ...service.listen,
      tls: {
        cert: tls.cert,
        key: tls.key,
        ...(clientCaFile === undefined ? {} : { ca: readFileSync(clientCaFile, 'utf8') }),
      },
    },
    logger: logs.logger,
  });
  const port = running.server.port;
  return {
    port,
    ca: tls.ca,
    logs,
    dir,
    running,
    request: (r) => rawHttps({ ...r, port, ca: tls.ca }),
    async close() {
      await running.close(1000);
      remove();
    },
  };
}

/** A pod-bound token valid now (boundClaims' fixed clock is in the past for a real server). */
export function liveToken(overrides: Record<string, unknown> = {}): string {
  return mintToken({ claims: boundClaims(overrides, Math.floor(Date.now() / 1000)) });
}

/**
 * A recording upstream and a proxy in front of it for the enclosing describe block
 * (beforeAll/afterAll); read `.upstream` and `.proxy` inside tests.
 */
export function useProxy(options: {
  flags?: readonly string[];
  files?: Readonly<Record<string, string>>;
  handler?: Parameters<typeof recordingUpstream>[0];
}): { readonly upstream: RecordingUpstream & { server: Server }; readonly proxy: TestProxy } {
  const holder = {} as { upstream: RecordingUpstream & { server: Server }; proxy: TestProxy };
  beforeAll(async () => {
    holder.upstream = await recordingUpstream(options.handler);
    holder.proxy = await startTestProxy({
      upstream: holder.upstream.url,
      ...(options.flags ? { flags: options.flags } : {}),
      ...(options.files ? { files: options.files } : {}),
    });
  });
  afterAll(async () => {
    await holder.proxy?.close();
    await holder.upstream?.close();
  });
  return holder;
}
