import fc from 'fast-check';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import type { HttpsResponse } from '../helpers/http.js';
import { rsaKey } from '../helpers/keys.js';
import { SentTokens } from '../helpers/logs.js';
import { reviewPath, startTestServer, tokenReview, type TestServer } from '../helpers/server.js';
import { realToken } from '../helpers/real-tokens.js';
import {
  boundClaims,
  ISSUER,
  JTI,
  legacyClaims,
  mintToken,
  NOW,
  NOW_MS,
  POD_UID,
  SA_UID,
} from '../helpers/tokens.js';

const V1 = 'authentication.k8s.io/v1';
/** The log line of a request whose client went away before its body was whole. */
const BODY_CUT_SHORT = 'the client closed the connection before the whole body arrived';
const V1BETA1 = 'authentication.k8s.io/v1beta1';

let server: TestServer;
const sent = new SentTokens();

beforeAll(async () => {
  server = await startTestServer({ clock: manualClock(NOW_MS), flags: ['--max-request-bytes', '4096'] });
});
afterAll(() => server.close());
afterEach(() => {
  expect(sent.leaksIn(server.logs.text())).toEqual([]);
});

/** Sends a TokenReview and checks the answer never carries the token. */
async function review(body: unknown, options?: { version?: string; query?: string }): Promise<HttpsResponse> {
  const res = await server.review(body, options);
  expect(sent.leaksIn(res.body)).toEqual([]);
  return res;
}

const reviewToken = (token: string, audiences?: string[]) => review(tokenReview(sent.add(token), audiences));

function expectStatus(res: HttpsResponse, code: number, reason: string, message?: string): void {
  expect(res.status).toBe(code);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.json()).toEqual({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    reason,
    code,
    message: message ?? expect.any(String),
  });
}

/**
 * `reason` is the token authenticator's error; kube-apiserver 1.37 answers it wrapped as
 * `[invalid bearer token, <reason>]`, and a token nobody claims as the bare text.
 */
function expectRejected(res: HttpsResponse, reason: string, apiVersion = V1): void {
  const error = reason === 'invalid bearer token' ? reason : `[invalid bearer token, ${reason}]`;
  expect(res.status).toBe(200);
  expect(res.json()).toEqual({
    kind: 'TokenReview',
    apiVersion,
    metadata: {},
    status: { authenticated: false, user: {}, error },
  });
}

describe('POST tokenreviews', () => {
  it('authenticates a projected token as kube-apiserver would', async () => {
    const res = await reviewToken(mintToken());
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({
      kind: 'TokenReview',
      apiVersion: V1,
      metadata: {},
      status: {
        authenticated: true,
        user: {
          username: 'system:serviceaccount:ns1:app',
          uid: SA_UID,
          groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated'],
          extra: {
            'authentication.kubernetes.io/pod-name': ['app-7d9'],
            'authentication.kubernetes.io/pod-uid': [POD_UID],
            'authentication.kubernetes.io/node-name': ['node-a'],
            'authentication.kubernetes.io/node-uid': [expect.any(String)],
            'authentication.kubernetes.io/credential-id': [`JTI=${JTI}`],
          },
        },
        audiences: [ISSUER],
      },
    });
  });

  it('answers v1beta1 on the v1beta1 path', async () => {
    const body = { ...tokenReview(sent.add(mintToken())), apiVersion: V1BETA1 };
    const res = await review(body, { version: 'v1beta1' });
    expect(res.json()).toMatchObject({ apiVersion: V1BETA1, status: { authenticated: true } });
  });

  it.each([
    ['v1', V1],
    ['v1beta1', V1BETA1],
  ])(
    'takes a body with only spec on the %s path and answers in that version (Vault)',
    async (version, apiVersion) => {
      const res = await review({ spec: { token: sent.add(mintToken()) } }, { version });
      expect(res.json()).toMatchObject({ kind: 'TokenReview', apiVersion, status: { authenticated: true } });
    },
  );

  it("ignores kube's ?timeout=30s query", async () => {
    const res = await review(tokenReview(sent.add(mintToken())), { query: '?timeout=30s' });
    expect(res.json()).toMatchObject({ status: { authenticated: true } });
  });

  it('ignores the status and metadata a client sends', async () => {
    const body = {
      ...tokenReview(sent.add(mintToken({ key: rsaKey('stranger') }))),
      metadata: { creationTimestamp: null },
      status: { authenticated: true, user: { username: 'system:admin' } },
    };
    expectRejected(await review(body), 'invalid signature, no keys found');
  });

  it('always lists status.audiences on success: the intersection, else the API audiences', async () => {
    const token = mintToken({ claims: boundClaims({ aud: [ISSUER, 'vault'] }) });
    expect((await reviewToken(token, ['vault', 'x'])).json()).toMatchObject({
      status: { audiences: ['vault'] },
    });
    expect((await reviewToken(token)).json()).toMatchObject({ status: { audiences: [ISSUER] } });
  });

  it('rejects a token whose audience is not requested, with HTTP 200', async () => {
    expectRejected(
      await reviewToken(mintToken(), ['vault']),
      `token audiences ["${ISSUER}"] is invalid for the target audiences ["vault"]`,
    );
  });

  it('rejects an expired token, with HTTP 200', async () => {
    expectRejected(
      await reviewToken(mintToken({ claims: boundClaims({ exp: NOW - 61 }) })),
      'service account token has expired',
    );
  });

  it('rejects a token of a foreign issuer as an invalid bearer token', async () => {
    expectRejected(
      await reviewToken(mintToken({ claims: boundClaims({ iss: 'https://evil.example' }) })),
      'invalid bearer token',
    );
  });

  it('rejects legacy tokens by default', async () => {
    expectRejected(
      await reviewToken(mintToken({ claims: legacyClaims() })),
      'legacy service account tokens are not accepted',
    );
  });

  it("judges 'a b' as a, as kube's bearer parsing does", async () => {
    const token = sent.add(mintToken());
    expect((await reviewToken(`${token} trailing`)).json()).toMatchObject({
      status: { authenticated: true },
    });
  });

  it('never answers a blank or space-led token with an anonymous user', async () => {
    expectRejected(await reviewToken('   '), 'invalid bearer token');
    expectRejected(await reviewToken(` ${mintToken()}`), 'invalid bearer token');
  });

  it('never connects to a jku or x5u a token names', async () => {
    let accepted = 0;
    const trap = createServer((socket) => {
      accepted++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(trap.address() as AddressInfo).port}/keys`;
      for (const header of [{ jku: url }, { x5u: url }, { jku: url, kid: 'unknown' }]) {
        expectRejected(await reviewToken(mintToken({ header })), 'invalid bearer token');
      }
      expect(accepted).toBe(0);
    } finally {
      await new Promise((resolve) => trap.close(resolve));
    }
  });

  it('never 5xx, never echoes, whatever the token (property)', async () => {
    const good = mintToken();
    const tokens = fc.oneof(
      fc.string({ minLength: 1, maxLength: 300 }),
      fc.nat(good.length - 1).map((at) => `${good.slice(0, at)}x${good.slice(at + 1)}`),
    );
    await fc.assert(
      fc.asyncProperty(tokens, async (token) => {
        const res = await review(tokenReview(sent.add(token)));
        expect(res.status).toBeLessThan(500);
        if (res.status === 200) expect(res.json()).not.toHaveProperty('spec');
      }),
      { numRuns: 40 },
    );
  });
});

describe('malformed TokenReview requests', () => {
  it('refuses an empty token with 400', async () => {
    expectStatus(
      await reviewToken(''),
      400,
      'BadRequest',
      'token is required for TokenReview in authentication',
    );
    expectStatus(await review({ apiVersion: V1, kind: 'TokenReview', spec: {} }), 400, 'BadRequest');
  });

  it('refuses a wrong apiVersion or kind with 400', async () => {
    const token = sent.add(mintToken());
    expectStatus(await review({ ...tokenReview(token), apiVersion: V1BETA1 }), 400, 'BadRequest');
    expectStatus(
      await review({ ...tokenReview(token), apiVersion: V1 }, { version: 'v1beta1' }),
      400,
      'BadRequest',
    );
    expectStatus(
      await review({ ...tokenReview(token), kind: 'SubjectAccessReview' }),
      400,
      'BadRequest',
      'the kind in the data does not match the expected kind (TokenReview)',
    );
  });

  it('refuses a body that is not JSON with 400, quoting none of it', async () => {
    const token = sent.add(mintToken());
    for (const body of [`{"spec":{"token":"${token}"`, token, `{"spec":{"token":"${token}"}}x`, '']) {
      const res = await server.request({
        method: 'POST',
        path: reviewPath(),
        headers: { 'content-type': 'application/json' },
        body,
      });
      expectStatus(res, 400, 'BadRequest', 'the request body is not valid JSON');
      expect(sent.leaksIn(res.body)).toEqual([]);
    }
  });

  it('refuses JSON that is not a TokenReview object with 400', async () => {
    for (const body of [
      [],
      'token',
      42,
      null,
      { spec: 'x' },
      { spec: { token: ['a'] } },
      { spec: { token: 'a', audiences: 'x' } },
    ]) {
      expectStatus(await review(body), 400, 'BadRequest');
    }
  });

  it('reads a body without Content-Type as JSON, as kube does', async () => {
    const res = await server.request({
      method: 'POST',
      path: reviewPath(),
      body: JSON.stringify(tokenReview(sent.add(mintToken()))),
    });
    expect(res.json()).toMatchObject({ status: { authenticated: true } });
  });

  it('accepts application/json with parameters', async () => {
    const res = await server.request({
      method: 'POST',
      path: reviewPath(),
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(tokenReview(sent.add(mintToken()))),
    });
    expect(res.json()).toMatchObject({ status: { authenticated: true } });
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/yaml', 'application/jsonx'])(
    'refuses Content-Type %s with 415',
    async (type) => {
      const res = await server.request({
        method: 'POST',
        path: reviewPath(),
        headers: { 'content-type': type },
        body: JSON.stringify(tokenReview(sent.add(mintToken()))),
      });
      expectStatus(res, 415, 'UnsupportedMediaType');
    },
  );

  describe('body size (--max-request-bytes 4096)', () => {
    const padded = (size: number) => {
      const body = { ...tokenReview(sent.add(mintToken())), metadata: { annotations: { pad: '' } } };
      const pad = size - JSON.stringify(body).length;
      body.metadata.annotations.pad = 'p'.repeat(pad);
      const text = JSON.stringify(body);
      expect(text.length).toBe(size);
      return text;
    };
    const post = (body: string, chunked?: number) =>
      server.request({
        method: 'POST',
        path: reviewPath(),
        headers: { 'content-type': 'application/json' },
        body,
        ...(chunked ? { chunked } : {}),
      });

    it('accepts a body of exactly the limit', async () => {
      expect((await post(padded(4096))).json()).toMatchObject({ status: { authenticated: true } });
    });

    it('refuses a body one byte over the limit with 413', async () => {
      expectStatus(await post(padded(4097)), 413, 'RequestEntityTooLarge');
    });

    it('refuses an oversized chunked body with 413, whatever Content-Length says', async () => {
      expectStatus(await post(padded(4097), 1000), 413, 'RequestEntityTooLarge');
      expect((await post(padded(4096), 1000)).status).toBe(200);
    });
  });

  it('takes a client that closes its connection halfway through the body as a bad request: no 500, no error log', async () => {
    const lines = server.logs.lines.length;
    const gone = server.logs.next((l) => l.msg === BODY_CUT_SHORT || l.msg === 'unhandled error in request');
    const started = once(server.running.server, 'request');
    const socket = connect({ host: '127.0.0.1', port: server.port, ca: server.ca });
    await once(socket, 'secureConnect');
    const body = JSON.stringify(tokenReview(sent.add(mintToken())));
    socket.write(
      `POST ${reviewPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body.slice(0, body.length >> 1)}`,
    );
    // The request is in the server's hands before the connection goes.
    await started;
    socket.destroy();
    expect((await gone).msg).toBe(BODY_CUT_SHORT);
    // A whole review afterwards: by its answer, the cut-short request has been counted.
    expect((await reviewToken(mintToken())).status).toBe(200);
    const newLines = server.logs.lines.slice(lines);
    expect(newLines.filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
    expect(newLines.some((l) => 'stack' in l)).toBe(false);
    const counted = await server.metrics.registry.getSingleMetricAsString('tokenwarden_http_requests_total');
    expect(counted).not.toMatch(/code="5\d\d"/);
    expect(counted).toMatch(/path="\/apis\/authentication\.k8s\.io\/v1\/tokenreviews",code="400"/);
  });

  it('answers a wrong method with 405 and an unknown path with 404', async () => {
    expectStatus(await server.request({ method: 'GET', path: reviewPath() }), 405, 'MethodNotAllowed');
    expectStatus(
      await server.request({ method: 'GET', path: '/apis/authentication.k8s.io/v2/tokenreviews' }),
      404,
      'NotFound',
    );
    expectStatus(
      await server.request({
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/namespaces/x/tokenreviews',
        body: '{}',
      }),
      404,
      'NotFound',
    );
  });

  it('answers deeply nested JSON with 400, not a crash', async () => {
    const deep = '['.repeat(2000) + ']'.repeat(2000);
    expectStatus(await server.request({ method: 'POST', path: reviewPath(), body: deep }), 400, 'BadRequest');
    const res = await server.request({
      method: 'POST',
      path: reviewPath(),
      body: `{"spec":{"token":"x","audiences":${deep}}}`,
    });
    expectStatus(res, 400, 'BadRequest');
  });

  it('never 5xx for any JSON body (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (body) => {
        const res = await server.request({ method: 'POST', path: reviewPath(), body: JSON.stringify(body) });
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 40 },
    );
  });
});

describe('the real tokens in test/fixtures/tokens', () => {
  const fixtures = ['legacy-secret-token.jwt', 'projected-istio-ca-token.jwt'] as const;

  it.each([
    ['legacy-secret-token.jwt', 'legacy service account tokens are not accepted'],
    ['projected-istio-ca-token.jwt', 'invalid bearer token'],
  ] as const)('rejects %s with HTTP 200 under the default flags', async (name, error) => {
    expectRejected(await reviewToken(realToken(name)), error);
  });

  it('rejects both with their issuer configured and legacy tokens accepted: their keys are unknown', async () => {
    const other = await startTestServer({
      flags: [
        '--service-account-issuer',
        'kubernetes.default.svc',
        '--service-account-legacy-tokens',
        'accept',
      ],
    });
    try {
      for (const name of fixtures) {
        const token = sent.add(realToken(name));
        for (const audiences of [undefined, ['istio-ca']]) {
          const res = await other.review(tokenReview(token, audiences));
          expectRejected(res, 'invalid signature, no keys found');
          expect(sent.leaksIn(res.body)).toEqual([]);
        }
      }
      expect(other.logs.lines.filter((l) => l.msg === 'tokenreview')).toHaveLength(4);
      expect(sent.leaksIn(other.logs.text())).toEqual([]);
    } finally {
      await other.close();
    }
  });
});

describe('logs', () => {
  it('records every review without the token', async () => {
    const before = server.logs.lines.length;
    await reviewToken(mintToken());
    await reviewToken(mintToken({ claims: boundClaims({ exp: NOW - 3600 }) }));
    const lines = server.logs.lines.slice(before).filter((l) => l.msg === 'tokenreview');
    expect(lines).toEqual([
      expect.objectContaining({ decision: 'authenticated', user: 'system:serviceaccount:ns1:app' }),
      expect.objectContaining({ decision: 'rejected', reason: 'ERR_TOKEN_EXPIRED' }),
    ]);
  });
});

describe('request ids', () => {
  const idOf = (res: HttpsResponse) => res.headers['x-request-id'];

  it("uses a client's valid X-Request-Id: echoed in the response and on the review's log line", async () => {
    const res = await server.request({
      method: 'POST',
      path: reviewPath(),
      headers: { 'content-type': 'application/json', 'x-request-id': 'f47ac10b-58cc-4372-a567-0e02b2c3d479' },
      body: JSON.stringify(tokenReview(sent.add(mintToken()))),
    });
    expect(res.status).toBe(200);
    expect(idOf(res)).toBe('f47ac10b-58cc-4372-a567-0e02b2c3d479');
    expect(server.logs.lines.filter((l) => l.reqId === 'f47ac10b-58cc-4372-a567-0e02b2c3d479')).toEqual([
      expect.objectContaining({ msg: 'tokenreview', decision: 'authenticated' }),
    ]);
  });

  it('echoes a generated id, different each time, when the client sends none or an unsafe one', async () => {
    const ids = [];
    for (const header of [undefined, 'has spaces', 'x'.repeat(200)]) {
      const res = await server.request({
        method: 'POST',
        path: reviewPath(),
        headers: { 'content-type': 'application/json', ...(header ? { 'x-request-id': header } : {}) },
        body: JSON.stringify(tokenReview(sent.add(mintToken()))),
      });
      expect(idOf(res)).toMatch(/^[A-Za-z0-9_-]{8}-[0-9a-z]+$/);
      ids.push(idOf(res));
    }
    expect(new Set(ids).size).toBe(3);
  });

  it('echoes the id on refusals too: 400, 404, 405', async () => {
    for (const [method, path, body] of [
      ['POST', reviewPath(), '{}'],
      ['GET', '/nowhere', undefined],
      ['GET', reviewPath(), undefined],
    ] as const) {
      const res = await server.request({
        method,
        path,
        headers: { 'x-request-id': `refused-${method}-${path.length}` },
        ...(body === undefined ? {} : { body }),
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(idOf(res)).toBe(`refused-${method}-${path.length}`);
    }
  });
});
