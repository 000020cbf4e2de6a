import { request as httpsRequest } from 'node:https';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  liveToken as token,
  recordingUpstream,
  startTestProxy,
  type RecordingUpstream,
  type TestProxy,
} from '../helpers/proxy.js';

describe('tokenwarden proxy streams', () => {
  let upstream: RecordingUpstream & { server: import('node:http').Server };
  let proxy: TestProxy;
  let wss: WebSocketServer;
  const upgrades: Record<string, string | string[] | undefined>[] = [];
  let sse: ServerResponse | undefined;
  let sseOpened: () => void = () => undefined;

  beforeAll(async () => {
    upstream = await recordingUpstream((req, res) => {
      if (req.url !== '/events') return false;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: first\n\n');
      sse = res;
      sseOpened();
      return true;
    });
    wss = new WebSocketServer({ noServer: true });
    upstream.server.on('upgrade', (req, socket, head) => {
      upgrades.push(req.headers);
      wss.handleUpgrade(req, socket, head, (ws) =>
        ws.on('message', (data, binary) => ws.send(data, { binary })),
      );
    });
    proxy = await startTestProxy({ upstream: upstream.url });
  });
  afterAll(async () => {
    wss.close();
    await proxy.close();
    await upstream.close();
  });

  it('echoes WebSocket messages through the proxy, with the identity on the upgrade request', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${proxy.port}/ws?room=1`, {
      ca: proxy.ca,
      headers: { Authorization: `Bearer ${token()}`, 'X-Remote-User': 'forged' },
    });
    const messages: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => ws.send('hello'));
      ws.on('message', (data) => {
        messages.push(String(data));
        if (messages.length === 1) ws.send(Buffer.alloc(70_000, 7));
        else ws.close();
      });
      ws.on('close', () => resolve());
      ws.on('error', reject);
    });
    expect(messages[0]).toBe('hello');
    expect(messages[1]!.length).toBe(70_000);
    expect(upgrades.at(-1)!['x-remote-user']).toBe('system:serviceaccount:ns1:app');
    expect(upgrades.at(-1)!.authorization).toBeUndefined();
  });

  it('refuses a WebSocket upgrade without a token with 401, never reaching the upstream', async () => {
    const before = upgrades.length;
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`wss://127.0.0.1:${proxy.port}/ws`, { ca: proxy.ca });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('opened without a token')));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);
    expect(upgrades.length).toBe(before);
  });

  it('passes Server-Sent Events through as they come, without waiting for the stream to end', async () => {
    const opened = new Promise<void>((r) => (sseOpened = r));
    const events: string[] = [];
    let firstSeen: () => void = () => undefined;
    const first = new Promise<void>((r) => (firstSeen = r));
    const done = new Promise<number>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: proxy.port,
          path: '/events',
          ca: proxy.ca,
          headers: { Authorization: `Bearer ${token()}`, Accept: 'text/event-stream' },
          agent: false,
        },
        (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            events.push(chunk);
            if (events.join('').includes('first')) firstSeen();
          });
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end();
    });
    await opened;
    // The upstream has sent one event and keeps the response open: it must already be here.
    await first;
    expect(sse!.writableEnded).toBe(false);
    sse!.end('data: second\n\n');
    expect(await done).toBe(200);
    expect(events.join('')).toBe('data: first\n\ndata: second\n\n');
  });
});
