import { describe, expect, it } from 'vitest';
import { originalRequest } from '../../src/http/check.js';
import { liveToken as token, useProxy } from '../helpers/proxy.js';
import { boundClaims, mintToken } from '../helpers/tokens.js';
const check = (target: string, headers: Record<string, string[]> = {}, method = 'GET') => ({
  method,
  target,
  headers,
});

describe('the original request of a /check call', () => {
  it("reads Envoy's path prefix with the request's own method", () => {
    expect(originalRequest(check('/check/api/v1/x?y=1', {}, 'POST'))).toEqual({
      ok: true,
      method: 'POST',
      target: '/api/v1/x?y=1',
    });
    expect(originalRequest(check('/check/'))).toEqual({ ok: true, method: 'GET', target: '/' });
  });

  it("reads nginx's X-Original-URI and X-Original-Method", () => {
    expect(
      originalRequest(
        check('/check', { 'x-original-uri': ['/metrics?a=b'], 'x-original-method': ['delete'] }),
      ),
    ).toEqual({ ok: true, method: 'DELETE', target: '/metrics?a=b' });
  });

  it("reads Traefik's X-Forwarded-Uri and X-Forwarded-Method", () => {
    expect(
      originalRequest(
        check('/check', {
          'x-forwarded-uri': ['/app?q'],
          'x-forwarded-method': ['PUT'],
          'x-forwarded-proto': ['https'],
          'x-forwarded-host': ['app.example'],
        }),
      ),
    ).toEqual({ ok: true, method: 'PUT', target: '/app?q' });
  });

  it('refuses a call that says nothing, says it twice, or gives a URI without a method', () => {
    for (const c of [
      check('/check'),
      check('/check?x=1'),
      check('/check', {
        'x-original-uri': ['/a'],
        'x-original-method': ['GET'],
        'x-forwarded-uri': ['/healthz'],
        'x-forwarded-method': ['GET'],
      }),
      check('/check/admin', { 'x-original-uri': ['/healthz'], 'x-original-method': ['GET'] }),
      check('/check', { 'x-original-uri': ['/a', '/b'], 'x-original-method': ['GET'] }),
      check('/check', { 'x-forwarded-uri': ['/a'] }),
      check('/check', { 'x-original-uri': ['/a'], 'x-original-method': ['GET', 'POST'] }),
    ])
      expect(originalRequest(c).ok, JSON.stringify(c)).toBe(false);
  });
});

describe('/check on the proxy listener', () => {
  const setup = useProxy({
    flags: ['--check-endpoint', '--ignore-path', '/healthz', '--allow-namespace', 'ns1'],
  });

  const identityOf = (rawHeaders: readonly string[]) => {
    const out: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2)
      if (/^x-remote-(user|group)$/i.test(rawHeaders[i]!)) out.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
    return out;
  };
  const expected = [
    'X-Remote-User: system:serviceaccount:ns1:app',
    'X-Remote-Group: system:serviceaccounts',
    'X-Remote-Group: system:serviceaccounts:ns1',
    'X-Remote-Group: system:authenticated',
  ];

  it('answers an Envoy ext_authz check (path prefix, original method, no body) with 200 and the identity headers', async () => {
    const res = await setup.proxy.request({
      method: 'POST',
      path: '/check/api/items?x=1',
      headers: ['Authorization', `Bearer ${token()}`, 'Content-Length', '0'],
    });
    expect(res.status).toBe(200);
    expect(identityOf(res.rawHeaders)).toEqual(expected);
    expect(res.body).toBe('');
  });

  it("writes one access line for the original request, under the check's request id, which it echoes", async () => {
    const res = await setup.proxy.request({
      path: '/check',
      headers: [
        'Authorization',
        `Bearer ${token()}`,
        'X-Original-URI',
        '/orders/7',
        'X-Original-Method',
        'DELETE',
        'X-Request-Id',
        'nginx-req-9',
      ],
    });
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('nginx-req-9');
    expect(setup.proxy.logs.lines.filter((l) => l.reqId === 'nginx-req-9')).toEqual([
      expect.objectContaining({
        msg: 'request',
        method: 'DELETE',
        path: '/orders/7',
        decision: 'allowed',
        user: 'system:serviceaccount:ns1:app',
      }),
    ]);
  });

  it('answers an nginx auth_request subrequest (a GET with X-Original-URI/Method)', async () => {
    const res = await setup.proxy.request({
      path: '/check',
      headers: [
        'Authorization',
        `Bearer ${token()}`,
        'X-Original-URI',
        '/metrics',
        'X-Original-Method',
        'GET',
      ],
    });
    expect(res.status).toBe(200);
    expect(identityOf(res.rawHeaders)).toEqual(expected);
  });

  it('answers a Traefik forwardAuth request (X-Forwarded-Method/Proto/Host/Uri/For)', async () => {
    const res = await setup.proxy.request({
      path: '/check',
      headers: [
        'Authorization',
        `Bearer ${token()}`,
        'X-Forwarded-Method',
        'GET',
        'X-Forwarded-Proto',
        'https',
        'X-Forwarded-Host',
        'app.example',
        'X-Forwarded-Uri',
        '/dashboard?tab=1',
        'X-Forwarded-For',
        '10.0.0.7',
      ],
    });
    expect(res.status).toBe(200);
    expect(identityOf(res.rawHeaders)).toEqual(expected);
  });

  it('answers 401 with the Bearer challenge, 403 for a user outside the allow-lists, 400 for an unknown original request', async () => {
    const noToken = await setup.proxy.request({
      path: '/check',
      headers: ['X-Forwarded-Uri', '/a', 'X-Forwarded-Method', 'GET'],
    });
    expect(noToken.status).toBe(401);
    expect(noToken.headers['www-authenticate']).toBe('Bearer');
    const bad = await setup.proxy.request({
      path: '/check/a',
      headers: ['Authorization', 'Bearer not.a.token'],
    });
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    const other = mintToken({
      claims: boundClaims(
        {
          sub: 'system:serviceaccount:ns9:app',
          'kubernetes.io': { namespace: 'ns9', serviceaccount: { name: 'app', uid: 'u' } },
        },
        Math.floor(Date.now() / 1000),
      ),
    });
    expect(
      (await setup.proxy.request({ path: '/check/a', headers: ['Authorization', `Bearer ${other}`] })).status,
    ).toBe(403);
    const unknown = await setup.proxy.request({
      path: '/check',
      headers: ['Authorization', `Bearer ${token()}`],
    });
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body)).toMatchObject({ code: 400, reason: 'BadRequest' });
  });

  it('passes an ignored original path with 200 and no identity, and never contacts the upstream', async () => {
    const res = await setup.proxy.request({
      path: '/check',
      headers: ['X-Original-URI', '/healthz', 'X-Original-Method', 'GET'],
    });
    expect(res.status).toBe(200);
    expect(identityOf(res.rawHeaders)).toEqual([]);
    const traversal = await setup.proxy.request({
      path: '/check',
      headers: ['X-Original-URI', '/healthz/../admin', 'X-Original-Method', 'GET'],
    });
    expect(traversal.status).toBe(400);
    expect(setup.upstream.received).toEqual([]);
  });
});
