import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/authz/rbac/compile.js';
import { parsePolicy } from '../../src/authz/rbac/policy.js';
import { createRbacAuthorizer } from '../../src/authz/rbac/rbac.js';
import type { Attributes, Authorizer } from '../../src/authz/authorizer.js';
import { asksImpersonation, impersonate } from '../../src/proxy/impersonation.js';

/** kube's impersonation docs example, granted to system:serviceaccount:ns1:app. */
const IMPERSONATION_POLICY = readFileSync(
  fileURLToPath(new URL('../fixtures/rbac/impersonation.yaml', import.meta.url)),
  'utf8',
);

function recording(inner: Authorizer): Authorizer & { asked: Attributes[] } {
  const asked: Attributes[] = [];
  return { asked, authorize: (a) => (asked.push(a), inner.authorize(a)) };
}

const rbac = () =>
  createRbacAuthorizer(compilePolicy(parsePolicy([{ name: 'p.yaml', text: IMPERSONATION_POLICY }])));
const caller = {
  username: 'system:serviceaccount:ns1:app',
  groups: ['system:serviceaccounts', 'system:authenticated'],
};
const headers = (h: Record<string, string[]>) => h;

describe('impersonation', () => {
  it('does nothing without Impersonate-* headers', async () => {
    expect(await impersonate(headers({ accept: ['*/*'] }), caller, rbac())).toEqual({ outcome: 'none' });
  });

  it('impersonates a user with groups, extra and uid when each value is allowed, checking each one', async () => {
    const authorizer = recording(rbac());
    const result = await impersonate(
      headers({
        'impersonate-user': ['jane.doe@example.com'],
        'impersonate-group': ['developers', 'admins'],
        'impersonate-extra-scopes': ['view', 'development'],
        'impersonate-uid': ['06f6ce97-e2c5-4ab8-7ba5-7654dd08d52b'],
      }),
      caller,
      authorizer,
    );
    expect(result).toEqual({
      outcome: 'impersonated',
      user: {
        username: 'jane.doe@example.com',
        uid: '06f6ce97-e2c5-4ab8-7ba5-7654dd08d52b',
        groups: ['developers', 'admins', 'system:authenticated'],
        extra: { scopes: ['view', 'development'] },
      },
    });
    expect(authorizer.asked.map((a) => [a.verb, a.apiGroup, a.resource, a.subresource, a.name])).toEqual([
      ['impersonate', '', 'users', '', 'jane.doe@example.com'],
      ['impersonate', 'authentication.k8s.io', 'uids', '', '06f6ce97-e2c5-4ab8-7ba5-7654dd08d52b'],
      ['impersonate', '', 'groups', '', 'developers'],
      ['impersonate', '', 'groups', '', 'admins'],
      ['impersonate', 'authentication.k8s.io', 'userextras', 'scopes', 'view'],
      ['impersonate', 'authentication.k8s.io', 'userextras', 'scopes', 'development'],
    ]);
    expect(authorizer.asked.every((a) => a.user === caller)).toBe(true);
  });

  it('checks a service-account user as that service account in its namespace and gives it the SA groups', async () => {
    const authorizer = recording(rbac());
    const result = await impersonate(
      headers({ 'impersonate-user': ['system:serviceaccount:ns2:builder'] }),
      caller,
      authorizer,
    );
    expect(result).toEqual({
      outcome: 'impersonated',
      user: {
        username: 'system:serviceaccount:ns2:builder',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:ns2', 'system:authenticated'],
      },
    });
    expect(authorizer.asked[0]).toMatchObject({
      resource: 'serviceaccounts',
      namespace: 'ns2',
      name: 'builder',
    });
  });

  it("refuses a value that is not allowed with kube's forbidden text", async () => {
    expect(await impersonate(headers({ 'impersonate-user': ['root'] }), caller, rbac())).toEqual({
      outcome: 'forbidden',
      message:
        'users "root" is forbidden: User "system:serviceaccount:ns1:app" cannot impersonate resource "users" in API group "" at the cluster scope',
    });
    expect(
      await impersonate(
        headers({ 'impersonate-user': ['jane.doe@example.com'], 'impersonate-group': ['system:masters'] }),
        caller,
        rbac(),
      ),
    ).toMatchObject({
      outcome: 'forbidden',
      message: expect.stringMatching(/^groups "system:masters" is forbidden/),
    });
    expect(
      await impersonate(
        headers({ 'impersonate-user': ['jane.doe@example.com'], 'impersonate-extra-scopes': ['admin'] }),
        caller,
        rbac(),
      ),
    ).toEqual({
      outcome: 'forbidden',
      message:
        'userextras.authentication.k8s.io "admin" is forbidden: User "system:serviceaccount:ns1:app" cannot impersonate resource "userextras/scopes" in API group "authentication.k8s.io" at the cluster scope',
    });
    expect(
      await impersonate(headers({ 'impersonate-user': ['system:serviceaccount:ns2:other'] }), caller, rbac()),
    ).toEqual({
      outcome: 'forbidden',
      message:
        'serviceaccounts "other" is forbidden: User "system:serviceaccount:ns1:app" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "ns2"',
    });
    expect(
      await impersonate(
        headers({ 'impersonate-user': ['jane.doe@example.com'], 'impersonate-uid': ['other-uid'] }),
        caller,
        rbac(),
      ),
    ).toMatchObject({
      outcome: 'forbidden',
      message: expect.stringMatching(/^uids.authentication.k8s.io "other-uid" is forbidden/),
    });
  });

  it('lower-cases and unescapes extra keys as kube reads them', async () => {
    const authorizer = recording({ authorize: () => ({ decision: 'allow', reason: '' }) });
    const result = await impersonate(
      headers({
        'impersonate-user': ['u'],
        'impersonate-extra-example.org%2fscopes': ['a'],
        'impersonate-extra-bad%zz': ['b'],
      }),
      caller,
      authorizer,
    );
    expect(result).toMatchObject({ user: { extra: { 'example.org/scopes': ['a'], 'bad%zz': ['b'] } } });
  });

  it('refuses groups, extra or uid without a user with 400', async () => {
    const cases: Record<string, string[]>[] = [
      { 'impersonate-group': ['developers'] },
      { 'impersonate-uid': ['x'] },
      { 'impersonate-extra-scopes': ['view'] },
    ];
    for (const h of cases)
      expect(await impersonate(headers(h), caller, rbac())).toMatchObject({ outcome: 'bad-request' });
  });

  it('adds system:unauthenticated for system:anonymous and keeps a supplied system:unauthenticated', async () => {
    const allow: Authorizer = { authorize: () => ({ decision: 'allow', reason: '' }) };
    expect(
      await impersonate(headers({ 'impersonate-user': ['system:anonymous'] }), caller, allow),
    ).toMatchObject({
      user: { groups: ['system:unauthenticated'] },
    });
    expect(
      await impersonate(
        headers({ 'impersonate-user': ['u'], 'impersonate-group': ['system:unauthenticated'] }),
        caller,
        allow,
      ),
    ).toMatchObject({ user: { groups: ['system:unauthenticated'] } });
  });
});

describe('asksImpersonation', () => {
  it('is true only when some Impersonate-* line is present', () => {
    expect(asksImpersonation({ authorization: ['Bearer x'], 'x-remote-user': ['u'] })).toBe(false);
    expect(asksImpersonation({})).toBe(false);
    expect(asksImpersonation({ 'impersonate-user': ['jane'] })).toBe(true);
    expect(asksImpersonation({ accept: ['*/*'], 'impersonate-extra-scopes': ['view'] })).toBe(true);
  });
});
