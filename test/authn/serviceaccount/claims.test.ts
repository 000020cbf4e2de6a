import { describe, expect, it } from 'vitest';
import {
  boundServiceAccount,
  checkTime,
  legacyServiceAccount,
  LEEWAY_MS,
  serviceAccountUser,
} from '../../../src/authn/serviceaccount/claims.js';
import { TokenwardenError } from '../../../src/errors.js';
import {
  boundClaims,
  JTI,
  legacyClaims,
  NODE_UID,
  NOW,
  NOW_MS,
  POD_UID,
  SA_UID,
  withPrivate,
  type Claims,
} from '../../helpers/tokens.js';

const timeError = (claims: Claims, nowMs = NOW_MS) => checkTime(claims, nowMs)?.message;

describe('checkTime', () => {
  it("uses go-jose's one-minute leeway", () => {
    expect(LEEWAY_MS).toBe(60_000);
  });

  for (const skew of [-300_000, 0, 300_000]) {
    const now = NOW_MS + skew;
    const at = now / 1000;
    describe(`with the clock ${skew / 60_000} min off`, () => {
      it('accepts exp just inside the leeway, up to exp == now - 60s', () => {
        expect(timeError({ exp: at - 59 }, now)).toBeUndefined();
        expect(timeError({ exp: at - 60 }, now)).toBeUndefined();
      });

      it('rejects exp just outside the leeway', () => {
        expect(timeError({ exp: at - 61 }, now)).toBe('service account token has expired');
        expect(timeError({ exp: at - 60 }, now + 1)).toBe('service account token has expired');
      });

      it('accepts nbf just inside the leeway, up to nbf == now + 60s', () => {
        expect(timeError({ nbf: at + 59 }, now)).toBeUndefined();
        expect(timeError({ nbf: at + 60 }, now)).toBeUndefined();
      });

      it('rejects nbf just outside the leeway', () => {
        expect(timeError({ nbf: at + 61 }, now)).toBe('service account token is not valid yet');
        expect(timeError({ nbf: at + 60 }, now - 1)).toBe('service account token is not valid yet');
      });

      it('accepts iat just inside the leeway and rejects it just outside', () => {
        expect(timeError({ iat: at + 60 }, now)).toBeUndefined();
        expect(timeError({ iat: at + 61 }, now)).toBe('service account token is issued in the future');
        expect(timeError({ iat: at + 60 }, now - 1)).toBe('service account token is issued in the future');
      });
    });
  }

  it('truncates fractional dates to whole seconds, as go-jose', () => {
    expect(timeError({ exp: NOW - 60 + 0.999 }, NOW_MS + 1)).toBe('service account token has expired');
    expect(timeError({ nbf: NOW + 60 + 0.999 }, NOW_MS)).toBeUndefined();
  });

  it('checks nbf, then exp, then iat', () => {
    expect(timeError({ nbf: NOW + 3600, exp: NOW - 3600, iat: NOW + 3600 })).toBe(
      'service account token is not valid yet',
    );
    expect(timeError({ exp: NOW - 3600, iat: NOW + 3600 })).toBe('service account token has expired');
  });

  it('skips claims that are absent', () => {
    expect(timeError({})).toBeUndefined();
  });

  it('codes each failure', () => {
    expect(checkTime({ exp: NOW - 61 }, NOW_MS)?.code).toBe('ERR_TOKEN_EXPIRED');
    expect(checkTime({ nbf: NOW + 61 }, NOW_MS)?.code).toBe('ERR_TOKEN_NOT_YET_VALID');
    expect(checkTime({ iat: NOW + 61 }, NOW_MS)?.code).toBe('ERR_TOKEN_ISSUED_IN_FUTURE');
  });
});

/** The claim error of a bound token, or the info when it is valid. */
function bound(claims: Claims) {
  const r = boundServiceAccount(claims);
  return r instanceof TokenwardenError ? r.message : r;
}

describe('boundServiceAccount', () => {
  it('reads namespace, name, uid, pod, node and jti, and keeps the claimed refs for live lookups', () => {
    expect(bound(boundClaims())).toEqual({
      boundRefs: { pod: { name: 'app-7d9', uid: POD_UID }, node: { name: 'node-a', uid: NODE_UID } },
      namespace: 'ns1',
      name: 'app',
      uid: SA_UID,
      podName: 'app-7d9',
      podUid: POD_UID,
      nodeName: 'node-a',
      nodeUid: NODE_UID,
      credentialId: `JTI=${JTI}`,
    });
  });

  it('reports a pod only when both its name and uid are present', () => {
    expect(bound(withPrivate({ pod: { name: 'app-7d9' } }))).not.toHaveProperty('podName');
    expect(bound(withPrivate({ pod: { name: 'app-7d9', uid: '' } }))).not.toHaveProperty('podName');
    expect(bound(withPrivate({ pod: { name: '', uid: POD_UID } }))).not.toHaveProperty('podUid');
  });

  it('reports a node name alone, and its uid only beside the name', () => {
    const nameOnly = bound(withPrivate({ node: { name: 'node-a' } }));
    expect(nameOnly).toMatchObject({ nodeName: 'node-a' });
    expect(nameOnly).not.toHaveProperty('nodeUid');
    const uidOnly = bound(withPrivate({ node: { name: '', uid: NODE_UID } }));
    expect(uidOnly).not.toHaveProperty('nodeName');
    expect(uidOnly).not.toHaveProperty('nodeUid');
  });

  it('gives a credential id only for a non-empty jti', () => {
    expect(bound(boundClaims({ jti: '' }))).not.toHaveProperty('credentialId');
    expect(bound(boundClaims({ jti: undefined }))).not.toHaveProperty('credentialId');
    expect(bound(boundClaims({ jti: 7 }))).toBe('invalid service account token claims: jti must be a string');
  });

  it.each([
    ['missing', { 'kubernetes.io': undefined }],
    ['a string', { 'kubernetes.io': 'ns1' }],
    ['an array', { 'kubernetes.io': [] }],
    ['null', { 'kubernetes.io': null }],
  ])('rejects a kubernetes.io claim that is %s', (_name, claims) => {
    expect(bound(boundClaims(claims))).toBe(
      'invalid service account token claims: kubernetes.io must be an object',
    );
  });

  it.each([
    ['empty', ''],
    ['with a colon', 'kube-system:admin'],
    ['upper case', 'NS1'],
    ['non-ASCII', 'nś1'],
    ['not a string', 1],
    ['too long', 'n'.repeat(64)],
  ])('rejects a namespace that is %s', (_name, namespace) => {
    expect(bound(withPrivate({ namespace }))).toBe(
      'invalid service account token claims: kubernetes.io.namespace is invalid',
    );
  });

  it.each([
    ['missing', undefined, /serviceaccount\.name is invalid/],
    ['without a name', { uid: SA_UID }, /name and .* must be strings/],
    ['with a colon in the name', { name: 'app:admin', uid: SA_UID }, /serviceaccount\.name is invalid/],
    ['without a uid', { name: 'app' }, /serviceaccount\.uid is missing/],
    ['with a non-string uid', { name: 'app', uid: 1 }, /must be strings/],
    ['a string', 'app', /must be an object/],
  ])('rejects a serviceaccount claim %s', (_name, serviceaccount, message) => {
    expect(bound(withPrivate({ serviceaccount }))).toMatch(message);
  });

  it('rejects a token bound to a secret and a pod at once', () => {
    expect(bound(withPrivate({ secret: { name: 's', uid: 'u' } }))).toMatch(/never both/);
  });

  it('accepts a token bound to a secret alone', () => {
    expect(
      bound(withPrivate({ pod: undefined, node: undefined, secret: { name: 's', uid: 'u' } })),
    ).toMatchObject({
      name: 'app',
    });
  });

  it('never rejects for warnafter in the past, but requires it to be a number', () => {
    expect(bound(withPrivate({ warnafter: NOW - 86_400 }))).toMatchObject({ name: 'app' });
    expect(bound(withPrivate({ warnafter: 'soon' }))).toMatch(/warnafter must be a number/);
  });

  it('reads no private claim through __proto__', () => {
    const claims = JSON.parse(
      `{"kubernetes.io":{"__proto__":{"namespace":"ns1","serviceaccount":{"name":"app","uid":"u"}}}}`,
    ) as Claims;
    expect(bound(claims)).toMatch(/namespace is invalid/);
  });
});

function legacy(claims: Claims) {
  const r = legacyServiceAccount(claims);
  return r instanceof TokenwardenError ? r.message : r;
}

describe('legacyServiceAccount', () => {
  it('reads the flat legacy claims', () => {
    expect(legacy(legacyClaims())).toEqual({
      namespace: 'ns1',
      name: 'app',
      uid: SA_UID,
      legacySecretName: 'app-token-42nbt',
    });
  });

  it("checks the claims in kube's order, with kube's messages", () => {
    const order: [string, string][] = [
      ['sub', 'sub claim is missing'],
      ['kubernetes.io/serviceaccount/namespace', 'namespace claim is missing'],
      ['kubernetes.io/serviceaccount/secret.name', 'secretName claim is missing'],
      ['kubernetes.io/serviceaccount/service-account.name', 'serviceAccountName claim is missing'],
      ['kubernetes.io/serviceaccount/service-account.uid', 'serviceAccountUID claim is missing'],
    ];
    // Removing claims one by one from the end shows each check runs before the next.
    for (let i = 0; i < order.length; i++) {
      const removed = Object.fromEntries(order.slice(i).map(([k]) => [k, undefined]));
      expect(legacy(legacyClaims(removed))).toBe(order[i]![1]);
      expect(legacy(legacyClaims({ [order[i]![0]]: 1 }))).toBe(order[i]![1]);
    }
  });

  it.each([
    ['names another namespace', 'system:serviceaccount:kube-system:app'],
    ['names another account', 'system:serviceaccount:ns1:admin'],
    ['is not a service account name', 'admin'],
    ['has an extra segment', 'system:serviceaccount:ns1:app:x'],
  ])('rejects a sub that %s', (_name, sub) => {
    expect(legacy(legacyClaims({ sub }))).toBe('sub claim is invalid');
  });
});

describe('serviceAccountUser', () => {
  it("builds kube's user: username, uid from the claim, SA groups, extras", () => {
    const info = boundServiceAccount(boundClaims());
    if (info instanceof TokenwardenError) throw info;
    expect(serviceAccountUser(info)).toEqual({
      username: 'system:serviceaccount:ns1:app',
      uid: SA_UID,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1'],
      extra: {
        'authentication.kubernetes.io/pod-name': ['app-7d9'],
        'authentication.kubernetes.io/pod-uid': [POD_UID],
        'authentication.kubernetes.io/node-name': ['node-a'],
        'authentication.kubernetes.io/node-uid': [NODE_UID],
        'authentication.kubernetes.io/credential-id': [`JTI=${JTI}`],
      },
    });
  });

  it('gives every service account of a namespace one shared, frozen groups list', () => {
    const user = (namespace: string, name: string) => serviceAccountUser({ namespace, name, uid: SA_UID });
    const a = user('ns1', 'a');
    expect(user('ns1', 'b').groups).toBe(a.groups);
    expect(Object.isFrozen(a.groups)).toBe(true);
    expect(user('ns2', 'a').groups).toEqual(['system:serviceaccounts', 'system:serviceaccounts:ns2']);
  });

  it('names and groups every service account by its own namespace and name', () => {
    const pairs: [string, string][] = [
      ['a-b', 'c'],
      ['a', 'b-c'],
      ['ns1', 'app'],
      ['ns2', 'app'],
    ];
    for (let i = 0; i < 50; i++) pairs.push([`ns${i % 7}`, `sa-${i}`]);
    for (let round = 0; round < 2; round++) {
      for (const [namespace, name] of pairs) {
        const u = serviceAccountUser({ namespace, name, uid: SA_UID });
        expect(u.username).toBe(`system:serviceaccount:${namespace}:${name}`);
        expect(u.groups).toEqual(['system:serviceaccounts', `system:serviceaccounts:${namespace}`]);
      }
    }
  });

  it('leaves extra out when there is nothing to say', () => {
    expect(serviceAccountUser({ namespace: 'ns1', name: 'app', uid: SA_UID })).not.toHaveProperty('extra');
  });
});
