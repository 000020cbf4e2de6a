import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suiteDir } from '../helpers/files.js';
import { liveToken as token, startTestProxy, useProxy, type TestProxy } from '../helpers/proxy.js';
import { servingTls, sharedTls } from '../helpers/tls.js';

interface Seen {
  readonly url: string;
  readonly user: string | string[] | undefined;
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
}

/** Answers `upstream ok` and records what reached it. */
function recorder(seen: Seen[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', user: req.headers['x-remote-user'], body, headers: req.headers });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('upstream ok');
    });
  };
}

const listening = (server: Server, at: string | { port: number; host: string }) =>
  new Promise<void>((resolve) => server.listen(at, () => resolve()));
const closing = (server: Server) => new Promise((resolve) => server.close(resolve));
const authorized = () => ['Authorization', `Bearer ${token()}`];

describe('tokenwarden proxy with a unix-socket upstream', () => {
  const seen: Seen[] = [];
  const upstream = createHttpServer(recorder(seen));
  const { dir, remove } = suiteDir('tokenwarden-proxy-unix-');
  let proxy: TestProxy;
  beforeAll(async () => {
    await listening(upstream, join(dir, 'app.sock'));
    proxy = await startTestProxy({ upstream: `unix://${join(dir, 'app.sock')}` });
  });
  afterAll(async () => {
    await proxy?.close();
    await closing(upstream);
    remove();
  });

  it('forwards a request over the socket with the identity headers', async () => {
    const res = await proxy.request({ path: '/over/socket?a=1', headers: authorized() });
    expect([res.status, res.body]).toEqual([200, 'upstream ok']);
    expect(seen.at(-1)).toMatchObject({ url: '/over/socket?a=1', user: 'system:serviceaccount:ns1:app' });
  });
});

describe('tokenwarden proxy with an HTTPS upstream', () => {
  const seen: Seen[] = [];
  let trusted: Server;
  let foreign: Server;
  let proxies: TestProxy[] = [];
  const start = async (server: Server, ca: string) => {
    const proxy = await startTestProxy({
      upstream: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
      flags: ['--upstream-ca-file', '$DIR/upstream-ca.pem'],
      files: { 'upstream-ca.pem': ca },
    });
    proxies.push(proxy);
    return proxy;
  };
  beforeAll(async () => {
    const tls = await sharedTls();
    // Its own CA, which the proxy is not told to trust.
    const other = await servingTls('foreign-upstream');
    trusted = createHttpsServer({ cert: tls.cert, key: tls.key }, recorder(seen));
    foreign = createHttpsServer({ cert: other.cert, key: other.key }, recorder(seen));
    await listening(trusted, { port: 0, host: '127.0.0.1' });
    await listening(foreign, { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    for (const p of proxies) await p.close();
    proxies = [];
    for (const server of [trusted, foreign]) (server as HttpsServer).closeAllConnections();
    await Promise.all([closing(trusted), closing(foreign)]);
  });

  it('forwards to an upstream whose certificate chains to --upstream-ca-file', async () => {
    const proxy = await start(trusted, (await sharedTls()).ca);
    for (let i = 0; i < 2; i++) {
      const res = await proxy.request({ path: `/tls/${i}`, headers: authorized() });
      expect([res.status, res.body]).toEqual([200, 'upstream ok']);
      expect(seen.at(-1)).toMatchObject({ url: `/tls/${i}`, user: 'system:serviceaccount:ns1:app' });
    }
  });

  it('answers 502 when the upstream certificate does not chain to it, and never sends the request', async () => {
    const proxy = await start(foreign, (await sharedTls()).ca);
    const before = seen.length;
    const res = await proxy.request({ path: '/tls/foreign', headers: authorized() });
    expect(res.status).toBe(502);
    expect(seen.length).toBe(before);
  });
});

describe('tokenwarden proxy request framing', () => {
  const setup = useProxy({});

  /** One request written byte for byte on a TLS connection, so framing and repeated lines stay as written. */
  const rawRequest = async (head: string, chunks: readonly string[]): Promise<string> => {
    const tls = await sharedTls();
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port: setup.proxy.port,
        ca: tls.ca,
        servername: 'localhost',
      });
      let answer = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (answer += d));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
      socket.on('secureConnect', () => {
        socket.write(head);
        for (const c of chunks) socket.write(c);
      });
    });
  };

  it('forwards a chunked upload to the upstream whole', async () => {
    const res = await rawRequest(
      `POST /chunked HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token()}\r\n` +
        'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
      ['5\r\nhello\r\n', '6\r\n world\r\n', '0\r\n\r\n'],
    );
    expect(res).toMatch(/^HTTP\/1\.1 200 /);
    const seen = setup.upstream.received.at(-1)!;
    expect([seen.url, seen.body.toString()]).toEqual(['/chunked', 'hello world']);
  });

  it('answers 400 to a request with two Host lines, without reaching the upstream', async () => {
    const before = setup.upstream.received.length;
    const res = await rawRequest(
      `GET /two-hosts HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nAuthorization: Bearer ${token()}\r\n` +
        'Connection: close\r\n\r\n',
      [],
    );
    expect(res).toMatch(/^HTTP\/1\.1 400 /);
    expect(setup.upstream.received.length).toBe(before);
  });
});
