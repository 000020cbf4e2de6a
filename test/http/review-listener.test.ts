import { once } from 'node:events';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import type { TokenAuthenticator } from '../../src/authn/authenticator.js';
import { createListener } from '../../src/http/app.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { Metrics } from '../../src/observe/metrics.js';
import { suiteDir, writeFile } from '../helpers/files.js';
import { captureLogs } from '../helpers/logs.js';
import { reviewPath, startTestServer, tokenReview, type TestServer } from '../helpers/server.js';
import { sharedTls } from '../helpers/tls.js';
import { mintToken, NOW_MS } from '../helpers/tokens.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ clock: manualClock(NOW_MS), flags: ['--max-request-bytes', '4096'] });
});
afterAll(() => server.close());

const counted = async (): Promise<string> =>
  server.metrics.registry.getSingleMetricAsString('tokenwarden_http_requests_total');

/** Opens a TLS connection to `port` and collects what comes back. */
async function rawConnection(
  port: number,
  ca: string,
): Promise<{ socket: TLSSocket; received: () => string }> {
  const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
  await once(socket, 'secureConnect');
  let text = '';
  socket.setEncoding('utf8').on('data', (d: string) => (text += d));
  return { socket, received: () => text };
}

/** Resolves once `received()` holds `count` whole responses (each with a Content-Length body). */
async function responses(socket: TLSSocket, received: () => string, count: number): Promise<string[]> {
  for (;;) {
    const parts: string[] = [];
    let rest = received();
    while (parts.length < count) {
      const head = rest.indexOf('\r\n\r\n');
      if (head < 0) break;
      const length = Number(/content-length: (\d+)/i.exec(rest.slice(0, head))?.[1] ?? 0);
      if (rest.length < head + 4 + length) break;
      parts.push(rest.slice(0, head + 4 + length));
      rest = rest.slice(head + 4 + length);
    }
    if (parts.length === count) return parts;
    await once(socket, 'data');
  }
}

describe('the review listener', () => {
  it('answers HEAD, GET and PUT on a review path 405, HEAD without a body, each with its request id', async () => {
    for (const method of ['GET', 'PUT', 'HEAD']) {
      const res = await server.request({
        method,
        path: reviewPath(),
        headers: { 'x-request-id': `m-${method}` },
      });
      expect(res.status).toBe(405);
      expect(res.headers['x-request-id']).toBe(`m-${method}`);
      expect(res.headers['content-type']).toBe('application/json');
      if (method === 'HEAD') {
        expect(res.body).toBe('');
        expect(res.headers['content-length']).toBeUndefined();
      } else
        expect(res.json()).toMatchObject({
          reason: 'MethodNotAllowed',
          message: `${method} is not supported on tokenreviews`,
        });
    }
    expect(await counted()).toMatch(
      /path="\/apis\/authentication\.k8s\.io\/v1\/tokenreviews",code="405"\} 3/,
    );
  });

  it('serves a percent-encoded review path, and leaves a trailing slash to the 404 of the app', async () => {
    const body = JSON.stringify(tokenReview(mintToken()));
    const headers = { 'content-type': 'application/json' };
    const encoded = await server.request({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/token%72eviews',
      headers,
      body,
    });
    expect(encoded.status).toBe(200);
    expect(encoded.json()).toMatchObject({ status: { authenticated: true } });
    const slash = await server.request({
      method: 'POST',
      path: `${reviewPath()}/`,
      headers: { ...headers, 'x-request-id': 'slash' },
      body,
    });
    expect(slash.status).toBe(404);
    expect(slash.headers['x-request-id']).toBe('slash');
    expect(await counted()).toMatch(/path="other",code="404"/);
  });

  it('writes a review answer byte for byte the same, first from the authenticator and then from the cache', async () => {
    const { dir, remove } = suiteDir();
    // A static token's user: a name of two-, three- and four-byte characters, and one JSON escapes.
    const tokens = writeFile(dir, 'tokens.csv', 'static-secret,"zoë-名前-🔑-\\q",u-1,ops\n');
    const own = await startTestServer({ clock: manualClock(NOW_MS), flags: [`--token-auth-file=${tokens}`] });
    try {
      const cases = [
        {
          token: mintToken(),
          body: (version: string) =>
            new RegExp(
              `^\\{"kind":"TokenReview","apiVersion":"authentication\\.k8s\\.io/${version}","metadata":\\{\\},"status":\\{"authenticated":true,"user":\\{"username":"system:serviceaccount:[^"]+","uid":"[^"]+","groups":\\["system:serviceaccounts","system:serviceaccounts:[^"]+","system:authenticated"\\],"extra":\\{[^}]+\\}\\},"audiences":\\["[^"]+"\\]\\}\\}$`,
            ),
        },
        {
          token: 'static-secret',
          body: (version: string) =>
            `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/${version}","metadata":{},"status":{"authenticated":true,"user":{"username":"zoë-名前-🔑-\\\\q","uid":"u-1","groups":["ops","system:authenticated"]},"audiences":["https://kubernetes.default.svc.cluster.local"]}}`,
        },
      ];
      for (const { token, body } of cases) {
        for (const version of ['v1', 'v1beta1']) {
          const socket = connect({ host: '127.0.0.1', port: own.port, ca: own.ca, servername: 'localhost' });
          await once(socket, 'secureConnect');
          const chunks: Buffer[] = [];
          socket.on('data', (d: Buffer) => chunks.push(d));
          const payload = Buffer.from(
            JSON.stringify({ ...tokenReview(token), apiVersion: `authentication.k8s.io/${version}` }),
          );
          const request = (id: string) =>
            `POST ${reviewPath(version)} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: ${id}\r\nContent-Length: ${payload.length}\r\n\r\n${payload}`;
          // The first answer comes from the authenticator, the next two from the cache.
          socket.write(request('one'));
          const texts: string[] = [];
          for (const id of ['one', 'two', 'three']) {
            for (;;) {
              const all = Buffer.concat(chunks);
              const head = all.indexOf('\r\n\r\n');
              const length =
                head < 0
                  ? NaN
                  : Number(/Content-Length: (\d+)/.exec(all.subarray(0, head).toString('latin1'))?.[1]);
              if (head >= 0 && all.length >= head + 4 + length) {
                const answer = all.subarray(0, head + 4 + length);
                chunks.length = 0;
                if (all.length > answer.length) chunks.push(all.subarray(answer.length));
                const [headLines, text] = [
                  answer.subarray(0, head).toString('latin1'),
                  answer.subarray(head + 4).toString('utf8'),
                ];
                expect(headLines).toMatch(
                  new RegExp(
                    `^HTTP/1\\.1 200 OK\\r\\nx-request-id: ${id}\\r\\ncontent-type: application/json\\r\\nContent-Length: ${Buffer.byteLength(text)}\\r\\nDate: [A-Za-z]{3}, \\d\\d [A-Za-z]{3} \\d{4} \\d\\d:\\d\\d:\\d\\d GMT\\r\\nConnection: keep-alive\\r\\nKeep-Alive: timeout=30$`,
                  ),
                );
                texts.push(text);
                break;
              }
              await once(socket, 'data');
            }
            if (id === 'one') socket.write(request('two'));
            if (id === 'two') socket.write(request('three'));
          }
          socket.destroy();
          const expected = body(version);
          for (const text of texts) {
            if (typeof expected === 'string') expect(text).toBe(expected);
            else expect(text).toMatch(expected);
          }
          expect(texts[1]).toBe(texts[0]);
          expect(texts[2]).toBe(texts[0]);
        }
      }
    } finally {
      await own.close();
      remove();
    }
  });

  it("writes an access review's answer, new or kept, and a refusal with the header lines the hono app wrote", async () => {
    const { dir, remove } = suiteDir();
    const policy = writeFile(
      dir,
      'policy.yaml',
      `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: reader }
rules: [{ apiGroups: [""], resources: [pods], verbs: [get] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: alice-reads }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: alice }]
`,
    );
    const own = await startTestServer({ flags: ['--rbac-policy-file', policy] });
    try {
      const { socket, received } = await rawConnection(own.port, own.ca);
      const body = JSON.stringify({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: 'alice', resourceAttributes: { verb: 'get', resource: 'pods' } },
      });
      const request = (id: string, text: string) =>
        `POST /apis/authorization.k8s.io/v1/subjectaccessreviews HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: ${id}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
      // Decoded, decoded and kept, then answered from what was kept; and a body that is not JSON.
      const ids = ['one', 'two', 'three', 'refused'];
      socket.write(ids.map((id) => request(id, id === 'refused' ? '{' : body)).join(''));
      const answers = await responses(socket, received, ids.length);
      socket.destroy();
      const texts = answers.map((answer, i) => {
        const head = answer.slice(0, answer.indexOf('\r\n\r\n'));
        const text = answer.slice(head.length + 4);
        const status = ids[i] === 'refused' ? '400 Bad Request' : '200 OK';
        expect(head).toMatch(
          new RegExp(
            `^HTTP/1\\.1 ${status}\\r\\nx-request-id: ${ids[i]}\\r\\nContent-Type: application/json\\r\\nContent-Length: ${Buffer.byteLength(text)}\\r\\nDate: [A-Za-z]{3}, \\d\\d [A-Za-z]{3} \\d{4} \\d\\d:\\d\\d:\\d\\d GMT\\r\\nConnection: keep-alive\\r\\nKeep-Alive: timeout=30$`,
          ),
        );
        return text;
      });
      expect(JSON.parse(texts[0]!)).toMatchObject({ status: { allowed: true } });
      expect(texts[1]).toBe(texts[0]);
      expect(texts[2]).toBe(texts[0]);
      expect(JSON.parse(texts[3]!)).toMatchObject({ kind: 'Status', code: 400 });
    } finally {
      await own.close();
      remove();
    }
  });

  it('writes a cached answer on a draining server with its Connection: close first, then the same lines as before', async () => {
    const own = await startTestServer({ clock: manualClock(NOW_MS) });
    try {
      const { socket, received } = await rawConnection(own.port, own.ca);
      const payload = JSON.stringify(tokenReview(mintToken()));
      const request = (id: string) =>
        `POST ${reviewPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: ${id}\r\nContent-Length: ${payload.length}\r\n\r\n${payload}`;
      socket.write(request('first'));
      await responses(socket, received, 1);
      own.running.drain();
      // From the cache now, on a server that sets its Connection header before the answer's own.
      socket.write(request('second'));
      const [, drained] = await responses(socket, received, 2);
      const head = drained!.slice(0, drained!.indexOf('\r\n\r\n'));
      const length = Buffer.byteLength(drained!.slice(head.length + 4));
      expect(head).toMatch(
        new RegExp(
          `^HTTP/1\\.1 200 OK\\r\\nConnection: close\\r\\nx-request-id: second\\r\\ncontent-type: application/json\\r\\nContent-Length: ${length}\\r\\nDate: [A-Za-z]{3}, \\d\\d [A-Za-z]{3} \\d{4} \\d\\d:\\d\\d:\\d\\d GMT$`,
        ),
      );
      socket.destroy();
    } finally {
      await own.close();
    }
  });

  it('reads a chunked body that arrives in many small pieces', async () => {
    const res = await server.request({
      method: 'POST',
      path: reviewPath('v1', '?timeout=30s'),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tokenReview(mintToken())),
      chunked: 5,
    });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ status: { authenticated: true } });
  });

  it('reads a body with a Content-Length that arrives over many TLS records', async () => {
    const { socket, received } = await rawConnection(server.port, server.ca);
    const body = JSON.stringify(tokenReview(mintToken()));
    socket.write(
      `POST ${reviewPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    for (let i = 0; i < body.length; i += 16) {
      socket.write(body.slice(i, i + 16));
      // Each piece in its own record, read by the server on its own.
      await new Promise((r) => setImmediate(r));
    }
    const [answer] = await responses(socket, received, 1);
    socket.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('"authenticated":true');
  });

  it('keeps a connection whose body it refused unread, and answers the next request on it', async () => {
    const { socket, received } = await rawConnection(server.port, server.ca);
    const refused = JSON.stringify({ pad: 'x'.repeat(3000) });
    const body = JSON.stringify(tokenReview(mintToken()));
    socket.write(
      `POST ${reviewPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: ${refused.length}\r\n\r\n${refused}` +
        `POST ${reviewPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const [first, second] = await responses(socket, received, 2);
    socket.destroy();
    expect(first).toMatch(/^HTTP\/1\.1 415 /);
    expect(second).toMatch(/^HTTP\/1\.1 200 /);
    expect(second).toContain('"authenticated":true');
  });

  it('closes a connection whose refused body keeps coming, rather than reading it to the end', async () => {
    const { socket } = await rawConnection(server.port, server.ca);
    socket.write(
      `POST ${reviewPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 1000000000\r\n\r\n{`,
    );
    const keepSending = setInterval(() => socket.write('x'.repeat(1024)), 20);
    try {
      await once(socket, 'end');
    } finally {
      clearInterval(keepSending);
      socket.destroy();
    }
  });

  it('counts a client that goes away mid-body as a 400 of the route, and serves the next one', async () => {
    const gone = server.logs.next(
      (l) => l.msg === 'the client closed the connection before the whole body arrived',
    );
    const started = once(server.running.server, 'request');
    const { socket } = await rawConnection(server.port, server.ca);
    socket.write(
      `POST /apis/authentication.k8s.io/v1beta1/tokenreviews HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 900\r\n\r\n{"apiVersion":`,
    );
    await started;
    socket.destroy();
    expect(await gone).toMatchObject({ path: '/apis/authentication.k8s.io/v1beta1/tokenreviews' });
    expect((await server.review(tokenReview(mintToken()))).status).toBe(200);
    expect(await counted()).toMatch(
      /path="\/apis\/authentication\.k8s\.io\/v1beta1\/tokenreviews",code="400"/,
    );
    expect(await counted()).not.toMatch(/code="5\d\d"/);
  });
});

describe('the review listener when something throws', () => {
  let running: RunningServer;
  const logs = captureLogs('info');
  const metrics = new Metrics({ processMetrics: false });
  const throwing: TokenAuthenticator = {
    authenticateToken() {
      throw new Error('a message that quotes the token');
    },
  };

  beforeAll(async () => {
    const tls = await sharedTls();
    running = await startServer({
      listener: {
        request: createListener({
          authenticator: throwing,
          apiAudiences: ['api'],
          metrics,
          logger: logs.logger,
          readiness: () => [],
          maxRequestBytes: 4096,
        }),
      },
      host: '127.0.0.1',
      port: 0,
      tls: { cert: tls.cert, key: tls.key },
      logger: logs.logger,
    });
  });
  afterAll(() => running.close(1000));

  it('answers 500 with a Status, logs the error without its message, counts it and keeps serving', async () => {
    const tls = await sharedTls();
    const { socket, received } = await rawConnection(running.port, tls.ca);
    const body = JSON.stringify(tokenReview('some.token.value'));
    const request = `POST ${reviewPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: boom\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    socket.write(request + request);
    const answers = await responses(socket, received, 2);
    socket.destroy();
    for (const answer of answers) {
      expect(answer).toMatch(/^HTTP\/1\.1 500 /);
      expect(answer).toMatch(/x-request-id: boom/);
      expect(answer).toContain('"reason":"InternalError"');
    }
    const errors = logs.lines.filter((l) => l.msg === 'unhandled error in request');
    expect(errors).toHaveLength(2);
    expect(logs.text()).not.toContain('quotes the token');
    expect(await metrics.registry.getSingleMetricAsString('tokenwarden_http_requests_total')).toMatch(
      /path="\/apis\/authentication\.k8s\.io\/v1\/tokenreviews",code="500"\} 2/,
    );
  });
});
