import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ok, type HttpAnswer } from '../../src/api/outcomes.js';
import { decodeSubjectAccessReview, encodeSubjectAccessReview } from '../../src/api/subjectaccessreview.js';
import type { ApiVersionName } from '../../src/api/types.js';
import type { Attributes, Authorizer } from '../../src/authz/authorizer.js';
import { createPrivilegedGroupsAuthorizer } from '../../src/authz/privileged.js';
import { RbacAuthorizer } from '../../src/authz/rbac/rbac.js';
import { builtinAuthorizers, createAuthorizerUnion } from '../../src/authz/union.js';
import { reviewAccess } from '../../src/review/access.js';
import { fixturePolicy } from '../authz/helpers.js';

/** What the SAR route answers: decode, decide, encode. */
async function reviewSubjectAccess(
  body: unknown,
  version: ApiVersionName,
  authorizer: Authorizer,
): Promise<HttpAnswer> {
  const decoded = decodeSubjectAccessReview(body, version);
  if (!decoded.ok) return decoded.answer;
  const result = await reviewAccess(authorizer, decoded.input.attributes);
  return ok(encodeSubjectAccessReview(decoded.input, result, version));
}

const authorizer = createAuthorizerUnion(
  builtinAuthorizers(new RbacAuthorizer(fixturePolicy()), createPrivilegedGroupsAuthorizer()),
);
const V1 = 'authorization.k8s.io/v1';
const V1BETA1 = 'authorization.k8s.io/v1beta1';

/** Records what the authorizer was asked. */
function spy(): { authorizer: Authorizer; seen: Attributes[] } {
  const seen: Attributes[] = [];
  return { seen, authorizer: { authorize: (a) => (seen.push(a), { decision: 'no-opinion', reason: '' }) } };
}

const janePods = {
  resourceAttributes: { namespace: 'default', verb: 'get', resource: 'pods' },
  user: 'jane',
};

describe('SubjectAccessReview API', async () => {
  it('answers a v1 review with the request apiVersion, spec echoed and the RBAC reason', async () => {
    const res = await reviewSubjectAccess(
      { apiVersion: V1, kind: 'SubjectAccessReview', spec: janePods },
      'v1',
      authorizer,
    );
    expect(res).toEqual({
      status: 200,
      body: {
        apiVersion: V1,
        kind: 'SubjectAccessReview',
        metadata: {},
        spec: janePods,
        status: {
          allowed: true,
          reason: 'RBAC: allowed by RoleBinding "read-pods/default" of Role "pod-reader" to User "jane"',
        },
      },
    });
  });

  it('always serializes allowed:false and omits empty denied, reason and evaluationError', async () => {
    const res = await reviewSubjectAccess(
      { apiVersion: V1, kind: 'SubjectAccessReview', spec: { ...janePods, user: 'nobody' } },
      'v1',
      authorizer,
    );
    expect(JSON.stringify((res.body as { status: unknown }).status)).toBe('{"allowed":false}');
  });

  it('reads v1 groups from spec.groups and v1beta1 groups from spec.group', async () => {
    const spec = { resourceAttributes: { verb: 'list', resource: 'secrets' } };
    const v1 = await reviewSubjectAccess(
      { apiVersion: V1, kind: 'SubjectAccessReview', spec: { ...spec, groups: ['manager'] } },
      'v1',
      authorizer,
    );
    expect((v1.body as { status: { allowed: boolean } }).status.allowed).toBe(true);
    const beta = await reviewSubjectAccess(
      { apiVersion: V1BETA1, kind: 'SubjectAccessReview', spec: { ...spec, group: ['manager'] } },
      'v1beta1',
      authorizer,
    );
    expect(beta.body).toMatchObject({
      apiVersion: V1BETA1,
      spec: { group: ['manager'] },
      status: { allowed: true },
    });
    // Each version ignores the other's field name, as kube's decoder ignores unknown fields.
    const mixed = await reviewSubjectAccess(
      { apiVersion: V1, kind: 'SubjectAccessReview', spec: { ...spec, user: 'x', group: ['manager'] } },
      'v1',
      authorizer,
    );
    expect((mixed.body as { status: { allowed: boolean } }).status.allowed).toBe(false);
  });

  it('takes a body without apiVersion and kind as the path version (Vault-style clients)', async () => {
    const res = await reviewSubjectAccess({ spec: janePods }, 'v1beta1', authorizer);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      apiVersion: V1BETA1,
      kind: 'SubjectAccessReview',
      status: { allowed: true },
    });
  });

  it('refuses a wrong apiVersion or kind with a 400 Status and a fixed message', async () => {
    const wrongVersion = await reviewSubjectAccess(
      { apiVersion: V1BETA1, kind: 'SubjectAccessReview', spec: janePods },
      'v1',
      authorizer,
    );
    expect(wrongVersion).toEqual({
      status: 400,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'the API version in the data does not match the expected API version (authorization.k8s.io/v1)',
        reason: 'BadRequest',
        code: 400,
      },
    });
    const wrongKind = await reviewSubjectAccess(
      { apiVersion: V1, kind: 'TokenReview<script>', spec: janePods },
      'v1',
      authorizer,
    );
    expect(wrongKind.status).toBe(400);
    expect(JSON.stringify(wrongKind.body)).not.toContain('script');
  });

  it('refuses bodies that are not objects and fields of the wrong type with 400, naming the field', async () => {
    for (const body of [null, 'x', 42, [janePods], undefined])
      expect((await reviewSubjectAccess(body, 'v1', authorizer)).status).toBe(400);
    const res = await reviewSubjectAccess({ spec: { ...janePods, user: 7 } }, 'v1', authorizer);
    expect(res.status).toBe(400);
    expect((res.body as { message: string }).message).toBe(
      'SubjectAccessReview in version "v1" cannot be handled as a SubjectAccessReview: spec.user: wrong type',
    );
    expect((await reviewSubjectAccess({ spec: { ...janePods, groups: 'g' } }, 'v1', authorizer)).status).toBe(
      400,
    );
    expect(
      (await reviewSubjectAccess({ spec: { ...janePods, extra: { k: 'v' } } }, 'v1', authorizer)).status,
    ).toBe(400);
    expect((await reviewSubjectAccess({ spec: 'x' }, 'v1', authorizer)).status).toBe(400);
    expect(
      (await reviewSubjectAccess({ spec: { user: 'u', resourceAttributes: [] } }, 'v1', authorizer)).status,
    ).toBe(400);
  });

  it('answers 422 Invalid with kube texts when neither attribute kind is given and no subject', async () => {
    const res = await reviewSubjectAccess(
      { apiVersion: V1, kind: 'SubjectAccessReview', spec: {} },
      'v1',
      authorizer,
    );
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        '.authorization.k8s.io "" is invalid: [spec: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified, spec.user: Invalid value: "": at least one of user or group must be specified]',
      reason: 'Invalid',
      code: 422,
      details: {
        group: 'authorization.k8s.io',
        causes: [
          {
            reason: 'FieldValueInvalid',
            message:
              'Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified',
            field: 'spec',
          },
          {
            reason: 'FieldValueInvalid',
            message: 'Invalid value: "": at least one of user or group must be specified',
            field: 'spec.user',
          },
        ],
      },
    });
  });

  it('answers 422 when both resource and non-resource attributes are given', async () => {
    const res = await reviewSubjectAccess(
      { spec: { ...janePods, nonResourceAttributes: { path: '/healthz', verb: 'get' } } },
      'v1',
      authorizer,
    );
    expect(res.status).toBe(422);
    expect((res.body as { message: string }).message).toBe(
      '.authorization.k8s.io "" is invalid: spec: Invalid value: {"Path":"/healthz","Verb":"get"}: exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  });

  it('accepts a group without a user', async () => {
    const res = await reviewSubjectAccess(
      { spec: { groups: ['monitors'], nonResourceAttributes: { path: '/healthz', verb: 'get' } } },
      'v1',
      authorizer,
    );
    expect(res.body).toMatchObject({ status: { allowed: true } });
  });

  it('validates selectors like kube and otherwise accepts them (RBAC ignores them)', async () => {
    const withSelector = (sel: object): object => ({
      spec: { ...janePods, resourceAttributes: { ...janePods.resourceAttributes, verb: 'list', ...sel } },
    });
    const ok = await reviewSubjectAccess(
      withSelector({
        labelSelector: { requirements: [{ key: 'app', operator: 'In', values: ['web'] }] },
        fieldSelector: { rawSelector: 'spec.nodeName=n1' },
      }),
      'v1',
      authorizer,
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      spec: {
        resourceAttributes: {
          fieldSelector: { rawSelector: 'spec.nodeName=n1' },
          labelSelector: { requirements: [{ key: 'app', operator: 'In', values: ['web'] }] },
        },
      },
      status: { allowed: true },
    });
    expect((ok.body as { status: object }).status).not.toHaveProperty('evaluationError');

    const both = await reviewSubjectAccess(
      withSelector({
        fieldSelector: { rawSelector: 'a=b', requirements: [{ key: 'a', operator: 'In', values: ['b'] }] },
      }),
      'v1',
      authorizer,
    );
    expect(both.status).toBe(422);
    expect((both.body as { message: string }).message).toContain(
      'spec.resourceAttributes.fieldSelector.rawSelector: Invalid value: "a=b": may not specified at the same time as requirements',
    );
    const neither = await reviewSubjectAccess(withSelector({ labelSelector: {} }), 'v1', authorizer);
    expect((neither.body as { message: string }).message).toContain(
      'spec.resourceAttributes.labelSelector.requirements: Required value: when spec.resourceAttributes.labelSelector is specified, requirements or rawSelector is required',
    );
  });

  it('reports selector parts kube had to ignore in evaluationError', async () => {
    const res = await reviewSubjectAccess(
      {
        spec: {
          ...janePods,
          resourceAttributes: {
            ...janePods.resourceAttributes,
            verb: 'list',
            fieldSelector: {
              requirements: [
                { key: 'a', operator: 'In', values: ['1'] },
                { key: 'b', operator: 'Exists' },
              ],
            },
            labelSelector: { rawSelector: 'a in (x' },
          },
        },
      },
      'v1',
      authorizer,
    );
    expect(res.body).toMatchObject({
      status: {
        allowed: true,
        evaluationError:
          'spec.resourceAttributes.fieldSelector partially ignored due to parse error; spec.resourceAttributes.labelSelector ignored due to parse error',
      },
    });
  });

  it('passes the user literally and maps an empty version to *', async () => {
    const { authorizer: s, seen } = spy();
    await reviewSubjectAccess(
      {
        spec: {
          user: 'system:serviceaccount:ns:sa',
          uid: 'u-1',
          extra: { scopes: ['a'], __proto__: ['x'] },
          resourceAttributes: { verb: 'get', resource: 'pods', subresource: 'log' },
        },
      },
      'v1',
      s,
    );
    const a = seen[0]!;
    expect(a.user.username).toBe('system:serviceaccount:ns:sa');
    expect(a.user.groups).toEqual([]);
    expect(a.user.uid).toBe('u-1');
    expect(a.user.extra?.scopes).toEqual(['a']);
    expect(a).toMatchObject({
      resourceRequest: true,
      apiVersion: '*',
      resource: 'pods',
      subresource: 'log',
      namespace: '',
    });
    await reviewSubjectAccess(
      { spec: { user: 'u', resourceAttributes: { verb: 'get', resource: 'pods', version: 'v1' } } },
      'v1',
      s,
    );
    expect(seen[1]!.apiVersion).toBe('v1');
  });

  it('keeps a __proto__ extra key as data in the echo', async () => {
    const body = JSON.parse(
      '{"spec":{"user":"u","extra":{"__proto__":["x"]},"resourceAttributes":{"verb":"get","resource":"pods"}}}',
    ) as unknown;
    const res = await reviewSubjectAccess(body, 'v1', authorizer);
    const echoed = (res.body as { spec: { extra: object } }).spec.extra;
    expect(Object.getPrototypeOf(echoed)).toBe(Object.prototype);
    expect(JSON.stringify(echoed)).toBe('{"__proto__":["x"]}');
  });

  it('ignores the incoming status and a namespace, and refuses other metadata as kube 1.37 does', async () => {
    const res = await reviewSubjectAccess(
      {
        metadata: { namespace: 'ns', creationTimestamp: null, labels: {} },
        status: { allowed: true, denied: true },
        spec: { ...janePods, user: 'nobody' },
      },
      'v1',
      authorizer,
    );
    expect(res.body).toMatchObject({ metadata: {}, status: { allowed: false } });
    const named = await reviewSubjectAccess({ metadata: { name: 'n' }, spec: janePods }, 'v1', authorizer);
    expect(named.status).toBe(422);
    expect(named.body).toMatchObject({
      message: '.authorization.k8s.io "" is invalid: metadata: Invalid value: {"name":"n"}: must be empty',
    });
  });

  it('reports a deny with denied:true and an authorizer error as evaluationError', async () => {
    const res = await reviewSubjectAccess({ spec: janePods }, 'v1', {
      authorize: () => ({ decision: 'deny', reason: 'no', error: 'e' }),
    });
    expect((res.body as { status: object }).status).toEqual({
      allowed: false,
      denied: true,
      reason: 'no',
      evaluationError: 'e',
    });
  });

  it('turns an authorizer that throws into an evaluation error, not a crash', async () => {
    const res = await reviewSubjectAccess({ spec: janePods }, 'v1', {
      authorize: () => {
        throw new Error('bug');
      },
    });
    expect(res).toMatchObject({
      status: 200,
      body: { status: { allowed: false, evaluationError: 'authorizer failed' } },
    });
  });

  it('answers every body with a well-formed review or a Status of its own code (property)', async () => {
    const attrs = fc.record(
      {
        namespace: fc.oneof(fc.constantFrom('', 'default', 'kube-system'), fc.jsonValue()),
        verb: fc.oneof(fc.constantFrom('get', 'list', '*', ''), fc.jsonValue()),
        group: fc.oneof(fc.constantFrom('', 'apps', '*'), fc.jsonValue()),
        version: fc.oneof(fc.constantFrom('', 'v1', '*'), fc.jsonValue()),
        resource: fc.oneof(fc.constantFrom('pods', 'secrets', '*', ''), fc.jsonValue()),
        subresource: fc.oneof(fc.constantFrom('', 'log', 'scale'), fc.jsonValue()),
        name: fc.oneof(fc.constantFrom('', 'x'), fc.jsonValue()),
        fieldSelector: fc.jsonValue(),
        labelSelector: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const spec = fc.record(
      {
        user: fc.oneof(fc.constantFrom('jane', 'system:admin', ''), fc.jsonValue()),
        groups: fc.oneof(
          fc.array(fc.constantFrom('system:masters', 'dev', 'a\nb'), { maxLength: 3 }),
          fc.jsonValue(),
        ),
        uid: fc.jsonValue(),
        extra: fc.oneof(
          fc.dictionary(fc.string(), fc.array(fc.string(), { maxLength: 2 }), { maxKeys: 2 }),
          fc.jsonValue(),
        ),
        resourceAttributes: fc.oneof(attrs, fc.jsonValue()),
        nonResourceAttributes: fc.oneof(
          fc.record(
            {
              path: fc.oneof(fc.constantFrom('/healthz', '/x/../y', ''), fc.jsonValue()),
              verb: fc.oneof(fc.constantFrom('get', ''), fc.jsonValue()),
            },
            { requiredKeys: [] },
          ),
          fc.jsonValue(),
        ),
      },
      { requiredKeys: [] },
    );
    const body = fc.record(
      {
        apiVersion: fc.oneof(fc.constantFrom(V1, V1BETA1), fc.jsonValue()),
        kind: fc.oneof(fc.constant('SubjectAccessReview'), fc.jsonValue()),
        spec: fc.oneof(spec, fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('v1' as const, 'v1beta1' as const), async (b, version) => {
        const res = await reviewSubjectAccess(b, version, authorizer);
        const out = res.body as Record<string, unknown> & { status: unknown };
        if (res.status === 200) {
          expect(out).toMatchObject({
            kind: 'SubjectAccessReview',
            apiVersion: `authorization.k8s.io/${version}`,
            metadata: {},
          });
          const status = out.status as {
            allowed: unknown;
            denied?: unknown;
            reason?: unknown;
            evaluationError?: unknown;
          };
          expect(typeof status.allowed).toBe('boolean');
          if (status.denied !== undefined) expect([status.denied, status.allowed]).toEqual([true, false]);
          for (const text of [status.reason, status.evaluationError]) {
            if (text !== undefined) expect(typeof text).toBe('string');
          }
          return;
        }
        expect(res.status === 400 || res.status === 422).toBe(true);
        expect(out).toMatchObject({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          code: res.status,
          reason: res.status === 400 ? 'BadRequest' : 'Invalid',
          message: expect.any(String),
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws and never answers 5xx, whatever the body', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.anything({ withNullPrototype: true, withObjectString: true }),
        fc.constantFrom('v1' as const, 'v1beta1' as const),
        async (body, version) => {
          const res = await reviewSubjectAccess(body, version, authorizer);
          expect([200, 400, 422]).toContain(res.status);
        },
      ),
      { numRuns: 500 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          spec: fc.dictionary(
            fc.constantFrom(
              'user',
              'groups',
              'group',
              'extra',
              'uid',
              'resourceAttributes',
              'nonResourceAttributes',
            ),
            fc.jsonValue(),
          ),
        }),
        async (body) => {
          expect([200, 400, 422]).toContain((await reviewSubjectAccess(body, 'v1', authorizer)).status);
        },
      ),
      { numRuns: 500 },
    );
  });
});
