import { Hono } from 'hono';
import { Agent, request } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { replaceFile, tempDir, writeFile } from '../helpers/files.js';
import { httpsRequest } from '../helpers/http.js';
import { captureLogs, type CapturedLogs } from '../helpers/logs.js';
import { servingTls, type ServingTls } from '../helpers/tls.js';

let one: ServingTls;
let two: ServingTls;
beforeAll(async () => {
  [one, two] = await Promise.all([servingTls('one'), servingTls('two')]);
});

let running: RunningServer | undefined;
afterEach(async () => {
  await running?.close(1000);
  running = undefined;
});

function app(): Hono {
  const a = new Hono();
  a.get('/hello', (c) => c.text('hello'));
  return a;
}

/** The common name of the certificate a fresh connection is served. */
async function servedName(port: number): Promise<string> {
  const res = await httpsRequest({ port, ca: one.ca + two.ca, path: '/hello' });
  expect(res.body).toBe('hello');
  return res.peerCertificate.subject.CN as string;
}

async function serveFromFiles(logs: CapturedLogs) {
  const dir = tempDir();
  const certFile = writeFile(dir, 'tls.crt', one.cert);
  const keyFile = writeFile(dir, 'tls.key', one.key);
  running = await startServer({
    app: app(),
    host: '127.0.0.1',
    port: 0,
    tls: { certFile, keyFile },
    logger: logs.logger,
  });
  return { certFile, keyFile, server: running };
}

describe('startServer TLS', () => {
  it('serves the certificate from the files', async () => {
    const { server } = await serveFromFiles(captureLogs());
    expect(await servedName(server.port)).toBe('one');
  });

  it('serves a rotated certificate to new connections without a restart', async () => {
    const logs = captureLogs();
    const { certFile, keyFile, server } = await serveFromFiles(logs);
    expect(await servedName(server.port)).toBe('one');

    const reloaded = logs.next((l) => l.msg === 'serving certificate reloaded');
    replaceFile(keyFile, two.key);
    replaceFile(certFile, two.cert);
    await reloaded;
    expect(await servedName(server.port)).toBe('two');
  });

  it('keeps a connection opened before the rotation working, on its old certificate', async () => {
    const logs = captureLogs();
    const { certFile, keyFile, server } = await serveFromFiles(logs);
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: one.ca + two.ca });
    const sockets: unknown[] = [];
    const get = () =>
      new Promise<string>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: server.port, path: '/hello', agent, servername: 'localhost' },
          (res) => {
            sockets.push(res.socket);
            const cn = (res.socket as TLSSocket).getPeerCertificate().subject.CN as string;
            let body = '';
            res.setEncoding('utf8').on('data', (d: string) => (body += d));
            res.on('end', () => resolve(`${body} from ${cn}`));
          },
        );
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await get()).toBe('hello from one');
      const reloaded = logs.next((l) => l.msg === 'serving certificate reloaded');
      replaceFile(keyFile, two.key);
      replaceFile(certFile, two.cert);
      await reloaded;
      expect(await get()).toBe('hello from one');
      expect(sockets[1] === sockets[0]).toBe(true);
      expect(await servedName(server.port)).toBe('two');
    } finally {
      agent.destroy();
    }
  });

  it.each([
    ['an empty certificate', (f: { certFile: string; keyFile: string }) => replaceFile(f.certFile, '')],
    [
      'a broken key',
      (f: { certFile: string; keyFile: string }) =>
        replaceFile(f.keyFile, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
    ],
    [
      'a key that does not match the certificate',
      (f: { certFile: string; keyFile: string }) => replaceFile(f.keyFile, two.key),
    ],
  ])('keeps the current certificate when the files turn into %s', async (_name, breakFiles) => {
    const logs = captureLogs();
    const files = await serveFromFiles(logs);
    breakFiles(files);
    expect(files.server.reloadTls()).toBe(false);
    expect(
      logs.lines.some((l) => l.msg === 'serving certificate reload failed; keeping the current certificate'),
    ).toBe(true);
    expect(await servedName(files.server.port)).toBe('one');
  });

  it.each([
    ['a mismatched pair', () => one.cert, () => two.key],
    ['an empty certificate', () => '', () => one.key],
    ['an empty key', () => one.cert, () => '\n'],
  ])('refuses to start on %s', async (_name, cert, key) => {
    const dir = tempDir();
    const certFile = writeFile(dir, 'tls.crt', cert());
    const keyFile = writeFile(dir, 'tls.key', key());
    await expect(
      startServer({
        app: app(),
        host: '127.0.0.1',
        port: 0,
        tls: { certFile, keyFile },
        logger: captureLogs().logger,
      }),
    ).rejects.toThrow();
  });

  it('speaks TLS 1.2 at least', async () => {
    running = await startServer({
      app: app(),
      host: '127.0.0.1',
      port: 0,
      tls: { cert: one.cert, key: one.key },
      logger: captureLogs().logger,
    });
    const port = running.port;
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({
        host: '127.0.0.1',
        port,
        ca: one.ca,
        maxVersion: 'TLSv1.1',
        minVersion: 'TLSv1',
      });
      socket.on('secureConnect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.on('error', () => resolve('refused'));
    });
    expect(outcome).toBe('refused');
  });
});

describe('startServer close', () => {
  it('lets an in-flight request finish, then stops', async () => {
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const a = app();
    a.get('/slow', async (c) => {
      entered();
      await released;
      return c.text('done');
    });
    const server = await startServer({
      app: a,
      host: '127.0.0.1',
      port: 0,
      tls: { cert: one.cert, key: one.key },
      logger: captureLogs().logger,
    });
    const inFlight = httpsRequest({ port: server.port, ca: one.ca, path: '/slow' });
    await inHandler;

    let closed = false;
    const closing = server.close(30_000).then(() => (closed = true));
    await expect(httpsRequest({ port: server.port, ca: one.ca, path: '/hello' })).rejects.toThrow();
    expect(closed).toBe(false);

    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toBe('done');
    expect(res.headers.connection).toBe('close');
    await closing;
    expect(server.server.listening).toBe(false);
  });
});

describe('startServer drain', () => {
  it('tells keep-alive clients to close their connection once draining, and keeps serving', async () => {
    running = await startServer({
      app: app(),
      host: '127.0.0.1',
      port: 0,
      tls: { cert: one.cert, key: one.key },
      logger: captureLogs().logger,
    });
    const port = running.port;
    const agent = new Agent({ keepAlive: true, ca: one.ca });
    const get = () =>
      new Promise<{ body: string; connection: string | undefined }>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/hello', agent }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ body, connection: res.headers.connection }));
        })
          .on('error', reject)
          .end();
      });
    try {
      expect(await get()).toEqual({ body: 'hello', connection: 'keep-alive' });
      running.drain();
      expect(await get()).toEqual({ body: 'hello', connection: 'close' });
    } finally {
      agent.destroy();
    }
  });
});
