import { describe, expect, it } from 'vitest';
import {
  createAttributesGetter,
  createStaticAuthorizer,
  verbForMethod,
} from '../../src/proxy/authorization.js';
import { parseRbacProxyConfig } from '../../src/proxy/rbac-proxy-config.js';
import { attrs } from '../authz/helpers.js';

const user = { username: 'system:serviceaccount:ns1:app', groups: ['system:authenticated'] };
const request = (
  over: Partial<{ method: string; path: string; rawQuery: string; headers: Record<string, string[]> }> = {},
) => ({
  method: 'GET',
  path: '/metrics',
  rawQuery: '',
  headers: {},
  ...over,
});

describe('per-request authorization attributes (kube-rbac-proxy)', async () => {
  it('maps methods to verbs as kube-rbac-proxy does, other methods to the empty verb', async () => {
    expect(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].map(verbForMethod)).toEqual([
      'get',
      'create',
      'update',
      'patch',
      'delete',
      '',
      '',
    ]);
  });

  it('authorizes the path as a non-resource request without resourceAttributes', async () => {
    expect(createAttributesGetter({})(user, request({ method: 'POST', path: '/api/v1/x' }))).toEqual([
      {
        user,
        verb: 'create',
        resourceRequest: false,
        path: '/api/v1/x',
        namespace: '',
        apiGroup: '',
        apiVersion: '',
        resource: '',
        subresource: '',
        name: '',
      },
    ]);
  });

  it('authorizes static resource attributes', async () => {
    const get = createAttributesGetter({
      resourceAttributes: {
        namespace: 'monitoring',
        apiVersion: 'v1',
        resource: 'services',
        subresource: 'proxy',
        name: 'prom',
      },
    });
    expect(get(user, request())).toEqual([
      {
        user,
        verb: 'get',
        resourceRequest: true,
        path: '',
        namespace: 'monitoring',
        apiGroup: '',
        apiVersion: 'v1',
        resource: 'services',
        subresource: 'proxy',
        name: 'prom',
      },
    ]);
  });

  it('fills {{ .Value }} from every query value, then every header line, and needs all of them', async () => {
    const get = createAttributesGetter({
      resourceAttributes: { namespace: '{{ .Value }}', resource: 'pods', name: 'x-{{.Value}}' },
      rewrites: { byQueryParameter: { name: 'namespace' }, byHttpHeader: { name: 'X-Namespace' } },
    });
    const all = get(
      user,
      request({ rawQuery: 'namespace=a&namespace=b%20c&other=z', headers: { 'x-namespace': ['d'] } }),
    );
    expect(all.map((a) => [a.namespace, a.name])).toEqual([
      ['a', 'x-a'],
      ['b c', 'x-b c'],
      ['d', 'x-d'],
    ]);
    expect(get(user, request())).toEqual([]);
  });

  it('refuses template syntax other than {{ .Value }}', async () => {
    expect(() =>
      createAttributesGetter({
        resourceAttributes: { namespace: '{{ .Value | upper }}' },
        rewrites: { byQueryParameter: { name: 'n' } },
      }),
    ).toThrow(/only \{\{ \.Value \}\}/);
  });
});

describe('static authorizer (kube-rbac-proxy)', async () => {
  const authorizer = createStaticAuthorizer([
    {
      user: { name: 'system:serviceaccount:ns1:app' },
      verb: 'get',
      resourceRequest: false,
      path: '/metrics',
    },
    { user: { groups: ['ops'] }, resourceRequest: true, resource: 'pods', namespace: 'ns1' },
  ]);

  it('allows what a rule matches, an empty field matching anything', async () => {
    expect(
      authorizer.authorize(
        attrs({ user: 'system:serviceaccount:ns1:app', verb: 'get', resource: '/metrics' }),
      ),
    ).toEqual({
      decision: 'allow',
      reason: 'found corresponding static auth config',
    });
    expect(
      (
        await authorizer.authorize(
          attrs({ user: 'x', groups: ['ops'], verb: 'delete', resource: 'pods', ns: 'ns1', name: 'p' }),
        )
      ).decision,
    ).toBe('allow');
  });

  it('has no opinion otherwise', async () => {
    expect(
      (
        await authorizer.authorize(
          attrs({ user: 'system:serviceaccount:ns1:app', verb: 'create', resource: '/metrics' }),
        )
      ).decision,
    ).toBe('no-opinion');
    expect(
      (
        await authorizer.authorize(
          attrs({ user: 'x', groups: ['dev'], verb: 'get', resource: 'pods', ns: 'ns1' }),
        )
      ).decision,
    ).toBe('no-opinion');
    expect(
      (await authorizer.authorize(attrs({ user: 'x', groups: ['ops'], verb: 'get', resource: '/pods' })))
        .decision,
    ).toBe('no-opinion');
  });

  it('refuses a resource rule with a path or a non-resource rule without one', async () => {
    expect(() => createStaticAuthorizer([{ resourceRequest: true, path: '/x' }])).toThrow(
      /must not include a path/,
    );
    expect(() => createStaticAuthorizer([{ verb: 'get' }])).toThrow(/must not include a path/);
  });
});

describe("kube-rbac-proxy's config file", () => {
  it('reads authorization.resourceAttributes, rewrites and static', async () => {
    const config = parseRbacProxyConfig(
      `authorization:
  rewrites:
    byQueryParameter:
      name: "namespace"
  resourceAttributes:
    namespace: "{{ .Value }}"
    apiVersion: v1
    resource: namespace
    subresource: metrics
  static:
    - user:
        name: system:serviceaccount:default:default
      resourceRequest: true
      resource: namespace
      subresource: metrics
      namespace: default
      verb: get
`,
      'config.yaml',
    );
    expect(config).toEqual({
      rewrites: { byQueryParameter: { name: 'namespace' } },
      resourceAttributes: {
        namespace: '{{ .Value }}',
        apiVersion: 'v1',
        resource: 'namespace',
        subresource: 'metrics',
      },
      static: [
        {
          user: { name: 'system:serviceaccount:default:default', groups: [] },
          resourceRequest: true,
          resource: 'namespace',
          subresource: 'metrics',
          namespace: 'default',
          verb: 'get',
        },
      ],
    });
  });

  it('names the file and field of a mistake', async () => {
    expect(() => parseRbacProxyConfig('authorization:\n  resourceAtributes: {}\n', 'c.yaml')).toThrow(
      'c.yaml: authorization.resourceAtributes: unknown field',
    );
    expect(() =>
      parseRbacProxyConfig('authorization:\n  static:\n  - resourceRequest: "yes"\n', 'c.yaml'),
    ).toThrow('c.yaml: authorization.static[0].resourceRequest: must be true or false');
    expect(() =>
      parseRbacProxyConfig('authorization:\n  rewrites:\n    byHttpHeader: { name: x }\n', 'c.yaml'),
    ).toThrow('c.yaml: authorization.rewrites: needs authorization.resourceAttributes');
    expect(() => parseRbacProxyConfig('a: [', 'c.yaml')).toThrow('c.yaml: document: not valid YAML');
  });
});
