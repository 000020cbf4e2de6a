import { afterEach } from 'vitest';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { toJwks } from '../../src/keys/parse.js';
import { verificationKey, type TestKey } from '../helpers/keys.js';
import { servingTls, type ServingTls } from '../helpers/tls.js';

/** What the server answers next; a function of the request so tests can script any fault. */
export type Responder = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A real HTTPS JWKS (and discovery) server on 127.0.0.1 with counters of what it served:
 * tests swap its answer (rotate keys, fail, stall, redirect) and count the fetches.
 */
export interface JwksServer {
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly tls: ServingTls;
  /** Requests received per path. */
  readonly hits: Map<string, number>;
  /** Authorization headers seen, in order. */
  readonly authorizations: (string | undefined)[];
  /** TCP connections accepted. */
  connections: number;
  total(): number;
  /** Serve these keys as `/jwks` (the default route). */
  serveKeys(keys: readonly TestKey[], headers?: Record<string, string>): void;
  respond(path: string, responder: Responder): void;
  close(): Promise<void>;
  /** Start again on the same port after close(). */
  reopen(): Promise<void>;
}

export function jwksBody(keys: readonly TestKey[], kidOverride?: string): string {
  const doc = toJwks(keys.map((k) => verificationKey(k)));
  if (kidOverride !== undefined) for (const k of doc.keys) k.kid = kidOverride;
  return JSON.stringify(doc);
}

export function json(body: string, headers: Record<string, string> = {}): Responder {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };
}

export async function startJwksServer(
  options: { tls?: ServingTls; port?: number } = {},
): Promise<JwksServer> {
  const tls = options.tls ?? (await servingTls('jwks'));
  const routes = new Map<string, Responder>();
  const sockets = new Set<Socket>();
  let server: Server;
  const self: JwksServer = {
    url: '',
    origin: '',
    port: 0,
    tls,
    hits: new Map(),
    authorizations: [],
    connections: 0,
    total: () => [...self.hits.values()].reduce((a, b) => a + b, 0),
    serveKeys(keys, headers = {}) {
      routes.set('/jwks', json(jwksBody(keys), headers));
    },
    respond(path, responder) {
      routes.set(path, responder);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
    reopen: () => listen(self.port),
  };
  const listen = (port: number): Promise<void> => {
    server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      self.hits.set(path, (self.hits.get(path) ?? 0) + 1);
      self.authorizations.push(req.headers.authorization);
      const route = routes.get(path);
      if (!route) {
        res.writeHead(404).end();
        return;
      }
      route(req, res);
    });
    server.on('connection', (s: Socket) => {
      self.connections++;
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    server.on('tlsClientError', () => {});
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const p = (server.address() as AddressInfo).port;
        Object.assign(self, {
          port: p,
          origin: `https://127.0.0.1:${p}`,
          url: `https://127.0.0.1:${p}/jwks`,
        });
        resolve();
      });
    });
  };
  await listen(options.port ?? 0);
  return self;
}

/**
 * Servers and other resources for one test file, closed after each test: call at the
 * top level of the file.
 */
export function serverPool(): { cleanup: Array<() => unknown>; server(): Promise<JwksServer> } {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  return {
    cleanup,
    async server() {
      const s = await startJwksServer();
      cleanup.push(() => s.close());
      return s;
    },
  };
}
