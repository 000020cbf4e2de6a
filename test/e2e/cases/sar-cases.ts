// The SubjectAccessReview differential matrix: RBAC objects applied to the e2e cluster with kubectl, and the
// identities and requests asked of kube-apiserver and of tokenwarden serving the cluster's exported RBAC.
import type { Manifest } from '../harness/manifests.js';

const RBAC = 'rbac.authorization.k8s.io/v1';
const AGGREGATE_LABEL = 'rbac.example.com/aggregate-to-monitoring';

type Rule = Record<string, unknown>;
type Subject = { kind: 'User' | 'Group' | 'ServiceAccount'; name: string; namespace?: string };

const user = (name: string): Subject => ({ kind: 'User', name });
const group = (name: string): Subject => ({ kind: 'Group', name });
const sa = (name: string, namespace?: string): Subject => ({
  kind: 'ServiceAccount',
  name,
  ...(namespace === undefined ? {} : { namespace }),
});
const withApiGroup = (s: Subject): Record<string, unknown> =>
  s.kind === 'ServiceAccount' ? s : { apiGroup: 'rbac.authorization.k8s.io', ...s };

const clusterRole = (name: string, rules: Rule[], labels?: Record<string, string>): Manifest => ({
  apiVersion: RBAC,
  kind: 'ClusterRole',
  metadata: { name, ...(labels && { labels }) },
  rules,
});
const role = (name: string, namespace: string, rules: Rule[]): Manifest => ({
  apiVersion: RBAC,
  kind: 'Role',
  metadata: { name, namespace },
  rules,
});
const clusterRoleBinding = (name: string, clusterRoleName: string, subjects: Subject[]): Manifest => ({
  apiVersion: RBAC,
  kind: 'ClusterRoleBinding',
  metadata: { name },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRoleName },
  subjects: subjects.map(withApiGroup),
});
const roleBinding = (
  name: string,
  namespace: string,
  ref: { kind: 'Role' | 'ClusterRole'; name: string },
  subjects: Subject[],
): Manifest => ({
  apiVersion: RBAC,
  kind: 'RoleBinding',
  metadata: { name, namespace },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...ref },
  subjects: subjects.map(withApiGroup),
});

export const SAR_NAMESPACES = ['team-a', 'team-b', 'ops'] as const;

/** Roles, ClusterRoles (one aggregated), RoleBindings and ClusterRoleBindings, as an operator would write them. */
export const RBAC_OBJECTS: readonly Manifest[] = [
  clusterRole(
    'widget-reader',
    [{ apiGroups: ['widgets.example.com'], resources: ['widgets'], verbs: ['get', 'list', 'watch'] }],
    {
      [AGGREGATE_LABEL]: 'true',
    },
  ),
  clusterRole(
    'scaler-and-logs',
    [
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      { apiGroups: ['*'], resources: ['*/scale'], verbs: ['get', 'update'] },
    ],
    { [AGGREGATE_LABEL]: 'true' },
  ),
  {
    apiVersion: RBAC,
    kind: 'ClusterRole',
    metadata: { name: 'monitoring' },
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE_LABEL]: 'true' } }] },
    // Replaced by the aggregation controller, as kube does with hand-written rules of an aggregated role.
    rules: [],
  },
  clusterRole('nonresource-reader', [
    { nonResourceURLs: ['/healthz*', '/apis/*', '/metrics'], verbs: ['get'] },
    { nonResourceURLs: ['/debug/*'], verbs: ['get', 'post'] },
  ]),
  clusterRole('named-configmaps', [
    {
      apiGroups: [''],
      resources: ['configmaps'],
      resourceNames: ['app-config', 'feature-flags'],
      verbs: ['get', 'update'],
    },
  ]),
  clusterRole('literal-subresource', [{ apiGroups: [''], resources: ['pods/*'], verbs: ['get'] }]),
  clusterRole('impersonator', [
    { apiGroups: [''], resources: ['users'], resourceNames: ['alice'], verbs: ['impersonate'] },
    { apiGroups: [''], resources: ['groups'], resourceNames: ['team-a-devs'], verbs: ['impersonate'] },
    { apiGroups: [''], resources: ['serviceaccounts'], resourceNames: ['build-bot'], verbs: ['impersonate'] },
    {
      apiGroups: ['authentication.k8s.io'],
      resources: ['userextras/scopes', 'uids'],
      verbs: ['impersonate'],
    },
  ]),
  clusterRole('apps-reader', [{ apiGroups: ['apps'], resources: ['*'], verbs: ['get', 'list'] }]),
  clusterRole('everything', [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ]),
  role('deployer', 'team-a', [
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'update', 'patch', 'delete'] },
    { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['update'] },
  ]),
  role('secret-reader', 'team-a', [
    { apiGroups: [''], resources: ['secrets'], resourceNames: ['db-password'], verbs: ['get'] },
  ]),
  role('viewer', 'team-b', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]),
  roleBinding('alice-deployer', 'team-a', { kind: 'Role', name: 'deployer' }, [user('alice')]),
  roleBinding('devs-edit', 'team-a', { kind: 'ClusterRole', name: 'edit' }, [group('team-a-devs')]),
  // The second subject has no namespace: it means the binding's own.
  roleBinding('bot-secrets', 'team-a', { kind: 'Role', name: 'secret-reader' }, [
    sa('build-bot', 'team-a'),
    sa('helper'),
  ]),
  roleBinding('monitoring', 'team-a', { kind: 'ClusterRole', name: 'monitoring' }, [group('monitoring')]),
  roleBinding('broken-role-ref', 'team-a', { kind: 'Role', name: 'missing-role' }, [user('carol')]),
  roleBinding('broken-clusterrole-ref', 'team-a', { kind: 'ClusterRole', name: 'missing-clusterrole' }, [
    group('team-a-devs'),
    user('carol'),
  ]),
  roleBinding('bob-viewer', 'team-b', { kind: 'Role', name: 'viewer' }, [
    user('bob'),
    sa('build-bot', 'team-a'),
  ]),
  roleBinding('literal', 'team-b', { kind: 'ClusterRole', name: 'literal-subresource' }, [user('dave')]),
  roleBinding('ops-view', 'ops', { kind: 'ClusterRole', name: 'view' }, [
    group('system:serviceaccounts:ops'),
  ]),
  roleBinding('flags', 'ops', { kind: 'ClusterRole', name: 'named-configmaps' }, [user('erin')]),
  roleBinding('config-readers', 'team-a', { kind: 'ClusterRole', name: 'named-configmaps' }, [
    group('system:serviceaccounts:team-a'),
  ]),
  clusterRoleBinding('ops-admins', 'everything', [group('ops-admins')]),
  clusterRoleBinding('widget-readers', 'widget-reader', [user('erin'), sa('robot', 'ops')]),
  clusterRoleBinding('metrics-readers', 'nonresource-reader', [group('system:authenticated')]),
  clusterRoleBinding('impersonators', 'impersonator', [user('mallory')]),
  clusterRoleBinding('apps-readers', 'apps-reader', [group('app-readers'), user('alice')]),
  clusterRoleBinding('broken', 'gone-role', [user('frank')]),
  clusterRoleBinding('monitoring-global', 'monitoring', [user('grace')]),
];

export interface Identity {
  readonly label: string;
  readonly user?: string;
  readonly groups?: readonly string[];
  readonly uid?: string;
  readonly extra?: Record<string, string[]>;
}

const saGroups = (namespace: string): string[] => [
  'system:serviceaccounts',
  `system:serviceaccounts:${namespace}`,
  'system:authenticated',
];

export const IDENTITIES: readonly Identity[] = [
  { label: 'alice (team-a-devs)', user: 'alice', groups: ['team-a-devs', 'system:authenticated'] },
  {
    label: 'alice with uid and extra',
    user: 'alice',
    groups: ['system:authenticated'],
    uid: 'alice-uid',
    extra: { scopes: ['read'] },
  },
  { label: 'bob', user: 'bob', groups: ['system:authenticated'] },
  { label: 'carol (bindings to missing roles)', user: 'carol' },
  { label: 'dave (literal pods/*)', user: 'dave', groups: ['system:authenticated'] },
  { label: 'erin', user: 'erin' },
  { label: 'frank (ClusterRoleBinding to a missing role)', user: 'frank', groups: ['system:authenticated'] },
  { label: 'grace (aggregated role)', user: 'grace' },
  { label: 'mallory (impersonator)', user: 'mallory', groups: ['system:authenticated'] },
  {
    label: 'build-bot with SA groups',
    user: 'system:serviceaccount:team-a:build-bot',
    groups: saGroups('team-a'),
  },
  { label: 'build-bot without groups', user: 'system:serviceaccount:team-a:build-bot' },
  { label: 'helper (subject without namespace)', user: 'system:serviceaccount:team-a:helper' },
  { label: 'robot in ops', user: 'system:serviceaccount:ops:robot', groups: saGroups('ops') },
  { label: 'olga (ops-admins)', user: 'olga', groups: ['ops-admins'] },
  { label: 'monitoring group member', user: 'mon', groups: ['monitoring', 'system:authenticated'] },
  { label: 'system:kube-scheduler (bootstrap binding)', user: 'system:kube-scheduler' },
  { label: 'anonymous', user: 'system:anonymous', groups: ['system:unauthenticated'] },
  { label: 'a system:masters member', user: 'root', groups: ['system:masters'] },
  { label: 'groups only (app-readers)', groups: ['app-readers'] },
];

export interface ResourceRequest {
  readonly namespace?: string;
  readonly verb: string;
  readonly group?: string;
  readonly version?: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly name?: string;
}

export type AccessRequest =
  | { readonly label: string; readonly resource: ResourceRequest }
  | { readonly label: string; readonly nonResource: { readonly path: string; readonly verb: string } };

const r = (label: string, resource: ResourceRequest): AccessRequest => ({ label, resource });
const nr = (verb: string, path: string): AccessRequest => ({
  label: `${verb} ${path}`,
  nonResource: { path, verb },
});

export const REQUESTS: readonly AccessRequest[] = [
  r('get pods in team-a', { namespace: 'team-a', verb: 'get', resource: 'pods', name: 'web-0' }),
  r('list pods in team-a', { namespace: 'team-a', verb: 'list', resource: 'pods' }),
  r('list pods in team-b', { namespace: 'team-b', verb: 'list', resource: 'pods' }),
  r('list pods in all namespaces', { verb: 'list', resource: 'pods' }),
  r('get pods/log in team-a', {
    namespace: 'team-a',
    verb: 'get',
    resource: 'pods',
    subresource: 'log',
    name: 'web-0',
  }),
  r('create pods/exec in team-a', {
    namespace: 'team-a',
    verb: 'create',
    resource: 'pods',
    subresource: 'exec',
    name: 'web-0',
  }),
  r('get pods/status in team-b', {
    namespace: 'team-b',
    verb: 'get',
    resource: 'pods',
    subresource: 'status',
    name: 'x',
  }),
  r('get pods/* (a subresource literally named *) in team-b', {
    namespace: 'team-b',
    verb: 'get',
    resource: 'pods',
    subresource: '*',
    name: 'x',
  }),
  r('create deployments in team-a', {
    namespace: 'team-a',
    verb: 'create',
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
  }),
  r('update deployments/scale in team-a', {
    namespace: 'team-a',
    verb: 'update',
    group: 'apps',
    resource: 'deployments',
    subresource: 'scale',
    name: 'web',
  }),
  r('update replicasets/scale in team-a', {
    namespace: 'team-a',
    verb: 'update',
    group: 'apps',
    resource: 'replicasets',
    subresource: 'scale',
    name: 'web',
  }),
  r('get deployments in team-b', {
    namespace: 'team-b',
    verb: 'get',
    group: 'apps',
    resource: 'deployments',
    name: 'web',
  }),
  r('delete deployments with verb * in team-a', {
    namespace: 'team-a',
    verb: '*',
    group: 'apps',
    resource: 'deployments',
  }),
  r('get configmap app-config in team-a', {
    namespace: 'team-a',
    verb: 'get',
    resource: 'configmaps',
    name: 'app-config',
  }),
  r('get configmap other in team-a', {
    namespace: 'team-a',
    verb: 'get',
    resource: 'configmaps',
    name: 'other',
  }),
  r('list configmaps in team-a', { namespace: 'team-a', verb: 'list', resource: 'configmaps' }),
  r('update configmap feature-flags in ops', {
    namespace: 'ops',
    verb: 'update',
    resource: 'configmaps',
    name: 'feature-flags',
  }),
  r('get secret db-password in team-a', {
    namespace: 'team-a',
    verb: 'get',
    resource: 'secrets',
    name: 'db-password',
  }),
  r('list secrets in team-a', { namespace: 'team-a', verb: 'list', resource: 'secrets' }),
  r('list widgets in team-a', {
    namespace: 'team-a',
    verb: 'list',
    group: 'widgets.example.com',
    resource: 'widgets',
  }),
  r('watch widgets cluster-wide', { verb: 'watch', group: 'widgets.example.com', resource: 'widgets' }),
  r('list widgets of another group', {
    namespace: 'team-a',
    verb: 'list',
    group: 'other.example.com',
    resource: 'widgets',
  }),
  r('get nodes', { verb: 'get', resource: 'nodes', name: 'node-1' }),
  r('get namespace team-a', { namespace: 'team-a', verb: 'get', resource: 'namespaces', name: 'team-a' }),
  r('list namespaces', { verb: 'list', resource: 'namespaces' }),
  r('create selfsubjectaccessreviews', {
    verb: 'create',
    group: 'authorization.k8s.io',
    resource: 'selfsubjectaccessreviews',
  }),
  r('get leases in kube-system', {
    namespace: 'kube-system',
    verb: 'get',
    group: 'coordination.k8s.io',
    resource: 'leases',
    name: 'kube-scheduler',
  }),
  r('impersonate user alice', { verb: 'impersonate', resource: 'users', name: 'alice' }),
  r('impersonate user bob', { verb: 'impersonate', resource: 'users', name: 'bob' }),
  r('impersonate group team-a-devs', { verb: 'impersonate', resource: 'groups', name: 'team-a-devs' }),
  r('impersonate serviceaccount team-a/build-bot', {
    namespace: 'team-a',
    verb: 'impersonate',
    resource: 'serviceaccounts',
    name: 'build-bot',
  }),
  r('impersonate userextras/scopes', {
    verb: 'impersonate',
    group: 'authentication.k8s.io',
    resource: 'userextras',
    subresource: 'scopes',
    name: 'read',
  }),
  r('impersonate uids', {
    verb: 'impersonate',
    group: 'authentication.k8s.io',
    resource: 'uids',
    name: 'alice-uid',
  }),
  nr('get', '/healthz'),
  nr('get', '/healthzfoo'),
  nr('get', '/apis'),
  nr('get', '/apis/'),
  nr('get', '/apis/apps'),
  nr('get', '/metrics'),
  nr('post', '/metrics'),
  nr('get', '/version'),
  nr('post', '/debug/pprof'),
];

export interface SarCase {
  readonly name: string;
  readonly spec: Record<string, unknown>;
}

function specFor(identity: Identity, request: AccessRequest): Record<string, unknown> {
  return {
    ...(identity.user !== undefined && { user: identity.user }),
    ...(identity.groups !== undefined && { groups: [...identity.groups] }),
    ...(identity.uid !== undefined && { uid: identity.uid }),
    ...(identity.extra !== undefined && { extra: identity.extra }),
    ...('resource' in request
      ? { resourceAttributes: { ...request.resource } }
      : { nonResourceAttributes: { ...request.nonResource } }),
  };
}

/** Every identity asks every request. */
export function matrixCases(): SarCase[] {
  return IDENTITIES.flatMap((identity) =>
    REQUESTS.map((request) => ({
      name: `${identity.label}: ${request.label}`,
      spec: specFor(identity, request),
    })),
  );
}

/** Selectors (evaluationError notes) and invalid specs (HTTP 422), asked by a few identities. */
export function selectorAndValidationCases(): SarCase[] {
  const listPods = { namespace: 'team-b', verb: 'list', resource: 'pods' };
  const who = IDENTITIES.filter((i) => ['bob', 'erin', 'a system:masters member'].includes(i.label));
  const selectors: Array<[string, Record<string, unknown>]> = [
    ['labelSelector app=web', { labelSelector: { rawSelector: 'app=web' } }],
    ['labelSelector that does not parse', { labelSelector: { rawSelector: 'app in (' } }],
    [
      'labelSelector requirements',
      { labelSelector: { requirements: [{ key: 'app', operator: 'In', values: ['web', 'db'] }] } },
    ],
    ['fieldSelector spec.nodeName=node-1', { fieldSelector: { rawSelector: 'spec.nodeName=node-1' } }],
    ['fieldSelector that does not parse', { fieldSelector: { rawSelector: 'spec.nodeName' } }],
    [
      'fieldSelector requirement with Exists (unsupported for fields)',
      { fieldSelector: { requirements: [{ key: 'spec.nodeName', operator: 'Exists' }] } },
    ],
  ];
  const cases: SarCase[] = [];
  for (const identity of who) {
    for (const [label, selector] of selectors) {
      cases.push({
        name: `${identity.label}: list pods in team-b, ${label}`,
        spec: {
          ...specFor(identity, { label, resource: listPods }),
          resourceAttributes: { ...listPods, ...selector },
        },
      });
    }
  }
  cases.push(
    { name: 'invalid: neither user nor groups', spec: { resourceAttributes: listPods } },
    { name: 'invalid: no attributes', spec: { user: 'bob' } },
    {
      name: 'invalid: both resource and non-resource attributes',
      spec: {
        user: 'bob',
        resourceAttributes: listPods,
        nonResourceAttributes: { path: '/healthz', verb: 'get' },
      },
    },
    {
      name: 'invalid: rawSelector beside requirements',
      spec: {
        user: 'bob',
        resourceAttributes: {
          ...listPods,
          labelSelector: { rawSelector: 'app=web', requirements: [{ key: 'app', operator: 'Exists' }] },
        },
      },
    },
  );
  return cases;
}

/** A LocalSubjectAccessReview or SelfSubjectAccessReview asked of both servers: the path and the whole body. */
export interface ReviewPostCase {
  readonly name: string;
  readonly path: string;
  readonly body: Record<string, unknown>;
}

const AUTHZ = 'authorization.k8s.io';
const localPath = (namespace: string, version = 'v1'): string =>
  `/apis/${AUTHZ}/${version}/namespaces/${namespace}/localsubjectaccessreviews`;
const localBody = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}, version = 'v1') => ({
  apiVersion: `${AUTHZ}/${version}`,
  kind: 'LocalSubjectAccessReview',
  ...extra,
  spec,
});

/**
 * LocalSubjectAccessReview: namespaced requests of the matrix, asked in the request's namespace, and the ways a body
 * and its path disagree (kube's create handler and pkg/registry/authorization/localsubjectaccessreview/rest.go).
 */
export function localCases(): ReviewPostCase[] {
  const who = IDENTITIES.filter((i) =>
    [
      'alice (team-a-devs)',
      'bob',
      'build-bot with SA groups',
      'olga (ops-admins)',
      'a system:masters member',
      'groups only (app-readers)',
    ].includes(i.label),
  );
  const cases: ReviewPostCase[] = [];
  for (const identity of who) {
    for (const request of REQUESTS) {
      if (!('resource' in request) || request.resource.namespace === undefined) continue;
      cases.push({
        name: `local: ${identity.label}: ${request.label}`,
        path: localPath(request.resource.namespace),
        body: localBody(specFor(identity, request)),
      });
    }
  }
  const listPods = { namespace: 'team-b', verb: 'list', resource: 'pods' };
  const bob = { user: 'bob', groups: ['system:authenticated'] };
  cases.push(
    {
      name: 'local v1beta1: alice lists pods in team-a (groups as `group`)',
      path: localPath('team-a', 'v1beta1'),
      body: localBody(
        {
          user: 'alice',
          group: ['team-a-devs'],
          resourceAttributes: { namespace: 'team-a', verb: 'list', resource: 'pods' },
        },
        {},
        'v1beta1',
      ),
    },
    {
      name: 'local: metadata.namespace equal to the path',
      path: localPath('team-b'),
      body: localBody({ ...bob, resourceAttributes: listPods }, { metadata: { namespace: 'team-b' } }),
    },
    {
      name: 'local: a namespace that does not exist',
      path: localPath('nowhere'),
      body: localBody({ ...bob, resourceAttributes: { ...listPods, namespace: 'nowhere' } }),
    },
    {
      name: 'local invalid: spec namespace differs from the path',
      path: localPath('team-a'),
      body: localBody({ ...bob, resourceAttributes: listPods }),
    },
    {
      name: 'local invalid: spec without a namespace',
      path: localPath('team-b'),
      body: localBody({ ...bob, resourceAttributes: { verb: 'list', resource: 'pods' } }),
    },
    {
      name: 'local invalid: metadata.namespace differs from the path',
      path: localPath('team-b'),
      body: localBody({ ...bob, resourceAttributes: listPods }, { metadata: { namespace: 'team-a' } }),
    },
    {
      name: 'local invalid: metadata with a name and labels',
      path: localPath('team-b'),
      body: localBody(
        { ...bob, resourceAttributes: listPods },
        { metadata: { name: 'check', labels: { b: '2', a: '1' } } },
      ),
    },
    {
      name: 'local invalid: non-resource attributes',
      path: localPath('team-b'),
      body: localBody({ ...bob, nonResourceAttributes: { path: '/healthz', verb: 'get' } }),
    },
    {
      name: 'local invalid: both kinds of attributes',
      path: localPath('team-b'),
      body: localBody({
        ...bob,
        resourceAttributes: listPods,
        nonResourceAttributes: { path: '/healthz', verb: 'get' },
      }),
    },
    {
      name: 'local invalid: neither user nor groups, and a namespace mismatch',
      path: localPath('team-a'),
      body: localBody({ resourceAttributes: listPods }),
    },
    {
      name: 'local invalid: no attributes',
      path: localPath('team-b'),
      body: localBody(bob),
    },
    {
      name: 'local: the kind of another review',
      path: localPath('team-b'),
      body: { ...localBody({ ...bob, resourceAttributes: listPods }), kind: 'SubjectAccessReview' },
    },
  );
  return cases;
}

/** Who asks a SelfSubjectAccessReview: a client certificate of the cluster's CA (CN = user, O = group). */
export interface SelfCaller {
  readonly label: string;
  readonly commonName: string;
  readonly organization?: string;
}

export const SELF_CALLERS: readonly SelfCaller[] = [
  { label: 'alice (team-a-devs)', commonName: 'alice', organization: 'team-a-devs' },
  { label: 'bob', commonName: 'bob' },
  { label: 'olga (ops-admins)', commonName: 'olga', organization: 'ops-admins' },
  { label: 'admin (system:masters)', commonName: 'admin', organization: 'system:masters' },
];

const selfBody = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}, version = 'v1') => ({
  apiVersion: `${AUTHZ}/${version}`,
  kind: 'SelfSubjectAccessReview',
  ...extra,
  spec,
});

/** SelfSubjectAccessReview: every request of the matrix as the caller itself, and the invalid bodies. */
export function selfCases(): ReviewPostCase[] {
  const path = (version = 'v1') => `/apis/${AUTHZ}/${version}/selfsubjectaccessreviews`;
  const cases: ReviewPostCase[] = REQUESTS.map((request) => ({
    name: `self: ${request.label}`,
    path: path(),
    body: selfBody(
      'resource' in request
        ? { resourceAttributes: { ...request.resource } }
        : { nonResourceAttributes: { ...request.nonResource } },
    ),
  }));
  const listPods = { namespace: 'team-b', verb: 'list', resource: 'pods' };
  cases.push(
    {
      name: 'self v1beta1: list pods in team-a',
      path: path('v1beta1'),
      body: selfBody(
        { resourceAttributes: { namespace: 'team-a', verb: 'list', resource: 'pods' } },
        {},
        'v1beta1',
      ),
    },
    {
      name: 'self: a user and groups in the spec are not part of a SelfSubjectAccessReview',
      path: path(),
      body: selfBody({ user: 'root', groups: ['system:masters'], resourceAttributes: listPods }),
    },
    {
      name: 'self: metadata.namespace on a cluster-scoped review is dropped',
      path: path(),
      body: selfBody({ resourceAttributes: listPods }, { metadata: { namespace: 'team-b' } }),
    },
    {
      name: 'self: labelSelector that does not parse',
      path: path(),
      body: selfBody({ resourceAttributes: { ...listPods, labelSelector: { rawSelector: 'app in (' } } }),
    },
    { name: 'self invalid: no attributes', path: path(), body: selfBody({}) },
    {
      name: 'self invalid: both kinds of attributes',
      path: path(),
      body: selfBody({
        resourceAttributes: listPods,
        nonResourceAttributes: { path: '/healthz', verb: 'get' },
      }),
    },
    {
      name: 'self invalid: metadata with a name',
      path: path(),
      body: selfBody({ resourceAttributes: listPods }, { metadata: { name: 'me', generateName: 'x-' } }),
    },
    {
      name: 'self invalid: rawSelector beside requirements',
      path: path(),
      body: selfBody({
        resourceAttributes: {
          ...listPods,
          labelSelector: { rawSelector: 'app=web', requirements: [{ key: 'app', operator: 'Exists' }] },
        },
      }),
    },
  );
  return cases;
}
