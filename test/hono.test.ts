import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { tokenwardenAuth } from '../src/hono.js';
import { createTokenVerifier } from '../src/verifier.js';
import { rsaKey, staticSource } from './helpers/keys.js';
import { liveToken } from './helpers/proxy.js';
import { ISSUER } from './helpers/tokens.js';

describe('tokenwarden/hono', () => {
  const verifier = createTokenVerifier({
    issuers: [ISSUER],
    issuerKeys: new Map([[ISSUER, staticSource(rsaKey())]]),
  });
  afterAll(() => verifier.close());
  const app = new Hono();
  app.use('/api/*', tokenwardenAuth({ verifier, allow: { namespaces: ['ns1'] } }));
  app.use('/strict/*', tokenwardenAuth({ verifier, audiences: ['other-api'] }));
  app.use(
    '/owner/*',
    tokenwardenAuth({ verifier, authorize: (identity) => identity.username.endsWith(':owner') }),
  );
  app.get('*', (c) => c.json(c.get('identity')));
  const get = (path: string, token?: string) =>
    app.request(path, token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } });

  it('sets the caller on the context', async () => {
    const res = await get('/api/whoami', liveToken());
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      username: 'system:serviceaccount:ns1:app',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/pod-name': ['app-7d9'] },
    });
  });

  it('answers 401 as the proxy does', async () => {
    const none = await get('/api/whoami');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await none.json()).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
    const bad = await get('/api/whoami', 'x.y.z');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    // The token holds the issuer's audience, not other-api.
    expect((await get('/strict/x', liveToken())).status).toBe(401);
  });

  it('answers 403 outside the allow-lists or when authorize says no', async () => {
    const other = liveToken({
      sub: 'system:serviceaccount:ns2:app',
      'kubernetes.io': { namespace: 'ns2', serviceaccount: { name: 'app', uid: 'u' } },
    });
    const res = await get('/api/whoami', other);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      code: 403,
      reason: 'Forbidden',
      message: 'Forbidden (user=system:serviceaccount:ns2:app)',
    });
    expect((await get('/owner/x', liveToken())).status).toBe(403);
  });

  it('refuses options without a verifier when made', () => {
    expect(() => tokenwardenAuth({} as never)).toThrow(/verifier/);
  });
});
