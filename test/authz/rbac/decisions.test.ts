import { describe, expect, it } from 'vitest';
import { builtinAuthorizers, createAuthorizerUnion } from '../../../src/authz/union.js';
import { createPrivilegedGroupsAuthorizer } from '../../../src/authz/privileged.js';
import { RbacAuthorizer } from '../../../src/authz/rbac/rbac.js';
import { attrs, fixturePolicy, type RequestSpec } from '../helpers.js';

/**
 * Decisions over test/fixtures/rbac/policy.yaml, each with the exact reason kube-apiserver
 * gives (system:masters first, then RBAC). `allowed: false` rows expect NoOpinion.
 */
const authorizer = createAuthorizerUnion(
  builtinAuthorizers(new RbacAuthorizer(fixturePolicy()), createPrivilegedGroupsAuthorizer()),
);

const by = (text: string): string => `RBAC: allowed by ${text}`;
const JANE = by('RoleBinding "read-pods/default" of Role "pod-reader" to User "jane"');
const MANAGER = by(
  'ClusterRoleBinding "read-secrets-global" of ClusterRole "secret-reader" to Group "manager"',
);
const IMPERSONATOR = by(
  'ClusterRoleBinding "impersonators" of ClusterRole "impersonator" to User "impersonator-admin"',
);
const ALICE = by(
  'ClusterRoleBinding "limited-impersonators" of ClusterRole "limited-impersonator" to User "alice"',
);
const SCALERS = by('ClusterRoleBinding "scalers" of ClusterRole "scaler" to Group "scalers"');
const BOB = by('ClusterRoleBinding "pod-star" of ClusterRole "pod-star-literal" to User "bob"');
const MONITORS = by('ClusterRoleBinding "healthz" of ClusterRole "health-checker" to Group "monitors"');
const PROM = by('ClusterRoleBinding "prometheus" of ClusterRole "url-prefixes" to User "prom"');
const UPDATER = (subject: string): string =>
  by(`ClusterRoleBinding "multi-subject" of ClusterRole "configmap-updater" to ${subject}`);
const DEPLOYER = by(
  'ClusterRoleBinding "ci-deployer" of ClusterRole "deployment-admin" to ServiceAccount "deployer/ci"',
);
const MONITORING_SAS = by(
  'ClusterRoleBinding "all-monitoring-sas" of ClusterRole "monitoring" to Group "system:serviceaccounts:monitoring"',
);
const MISSING_CR = 'clusterrole.rbac.authorization.k8s.io "does-not-exist" not found';
const MISSING_ROLE = 'role.rbac.authorization.k8s.io "missing-role" not found';
const UID = '06f6ce97-e2c5-4ab8-7ba5-7654dd08d52b';
const MON_GROUPS = ['system:serviceaccounts', 'system:serviceaccounts:monitoring'];

type Row = [label: string, request: RequestSpec, allowed: boolean, reason: string];

const rows: Row[] = [
  // A Role granting get/list/watch on pods, bound in its namespace.
  ['jane gets pods in default', { user: 'jane', verb: 'get', resource: 'pods', ns: 'default' }, true, JANE],
  ['jane lists pods in default', { user: 'jane', verb: 'list', resource: 'pods', ns: 'default' }, true, JANE],
  [
    'jane watches a named pod',
    { user: 'jane', verb: 'watch', resource: 'pods', ns: 'default', name: 'web-0' },
    true,
    JANE,
  ],
  ['jane cannot delete pods', { user: 'jane', verb: 'delete', resource: 'pods', ns: 'default' }, false, ''],
  [
    'a Role grants nothing in another namespace',
    { user: 'jane', verb: 'get', resource: 'pods', ns: 'development' },
    false,
    '',
  ],
  ['a Role grants nothing cluster-wide', { user: 'jane', verb: 'get', resource: 'pods' }, false, ''],
  [
    'pods does not cover pods/log',
    { user: 'jane', verb: 'get', resource: 'pods/log', ns: 'default' },
    false,
    '',
  ],
  [
    'the api group must match',
    { user: 'jane', verb: 'get', resource: 'pods.apps', ns: 'default' },
    false,
    '',
  ],
  ['verbs are case-sensitive', { user: 'jane', verb: 'GET', resource: 'pods', ns: 'default' }, false, ''],
  ['resources are case-sensitive', { user: 'jane', verb: 'get', resource: 'Pods', ns: 'default' }, false, ''],
  // A RoleBinding of a ClusterRole grants only in the binding's namespace.
  [
    'dave reads secrets in development',
    { user: 'dave', verb: 'get', resource: 'secrets', ns: 'development' },
    true,
    by('RoleBinding "read-secrets/development" of ClusterRole "secret-reader" to User "dave"'),
  ],
  [
    'dave reads no secrets in default',
    { user: 'dave', verb: 'get', resource: 'secrets', ns: 'default' },
    false,
    '',
  ],
  ['dave lists no secrets cluster-wide', { user: 'dave', verb: 'list', resource: 'secrets' }, false, ''],
  // A ClusterRoleBinding to a group.
  [
    'a manager reads secrets in any namespace',
    { user: 'x', groups: ['manager'], verb: 'get', resource: 'secrets', ns: 'kube-system', name: 's' },
    true,
    MANAGER,
  ],
  [
    'a manager lists secrets cluster-wide',
    { user: 'x', groups: ['manager'], verb: 'list', resource: 'secrets' },
    true,
    MANAGER,
  ],
  [
    'a group alone is enough (no user name)',
    { groups: ['manager'], verb: 'watch', resource: 'secrets' },
    true,
    MANAGER,
  ],
  [
    'a manager cannot delete secrets',
    { user: 'x', groups: ['manager'], verb: 'delete', resource: 'secrets' },
    false,
    '',
  ],
  // Impersonation roles, with and without resourceNames.
  [
    'impersonate any user',
    { user: 'impersonator-admin', verb: 'impersonate', resource: 'users', name: 'anyone' },
    true,
    IMPERSONATOR,
  ],
  [
    'impersonate a service account',
    {
      user: 'impersonator-admin',
      verb: 'impersonate',
      resource: 'serviceaccounts',
      ns: 'ci',
      name: 'deployer',
    },
    true,
    IMPERSONATOR,
  ],
  [
    'impersonate any group',
    { user: 'impersonator-admin', verb: 'impersonate', resource: 'groups', name: 'system:masters' },
    true,
    IMPERSONATOR,
  ],
  [
    'the broad impersonator cannot impersonate extras',
    {
      user: 'impersonator-admin',
      verb: 'impersonate',
      resource: 'userextras.authentication.k8s.io/scopes',
      name: 'view',
    },
    false,
    '',
  ],
  [
    'impersonate the one listed user',
    { user: 'alice', verb: 'impersonate', resource: 'users', name: 'jane.doe@example.com' },
    true,
    ALICE,
  ],
  [
    'not an unlisted user',
    { user: 'alice', verb: 'impersonate', resource: 'users', name: 'john' },
    false,
    '',
  ],
  ['not with an empty name', { user: 'alice', verb: 'impersonate', resource: 'users' }, false, ''],
  [
    'impersonate a listed group',
    { user: 'alice', verb: 'impersonate', resource: 'groups', name: 'developers' },
    true,
    ALICE,
  ],
  [
    'not system:masters',
    { user: 'alice', verb: 'impersonate', resource: 'groups', name: 'system:masters' },
    false,
    '',
  ],
  [
    'impersonate a listed scope (userextras/scopes)',
    { user: 'alice', verb: 'impersonate', resource: 'userextras.authentication.k8s.io/scopes', name: 'view' },
    true,
    ALICE,
  ],
  [
    'not an unlisted scope',
    {
      user: 'alice',
      verb: 'impersonate',
      resource: 'userextras.authentication.k8s.io/scopes',
      name: 'admin',
    },
    false,
    '',
  ],
  [
    'not another extra key',
    { user: 'alice', verb: 'impersonate', resource: 'userextras.authentication.k8s.io/other', name: 'view' },
    false,
    '',
  ],
  [
    'impersonate the listed uid',
    { user: 'alice', verb: 'impersonate', resource: 'uids.authentication.k8s.io', name: UID },
    true,
    ALICE,
  ],
  [
    'uids in the core group are another resource',
    { user: 'alice', verb: 'impersonate', resource: 'uids', name: UID },
    false,
    '',
  ],
  // */scale matches the scale subresource of anything, and only that.
  [
    'update deployments/scale',
    { groups: ['scalers'], verb: 'update', resource: 'deployments.apps/scale', ns: 'default' },
    true,
    SCALERS,
  ],
  [
    'get replicasets/scale',
    { groups: ['scalers'], verb: 'get', resource: 'replicasets.apps/scale', ns: 'default' },
    true,
    SCALERS,
  ],
  [
    '*/scale never matches the parent resource',
    { groups: ['scalers'], verb: 'update', resource: 'deployments.apps', ns: 'default' },
    false,
    '',
  ],
  [
    '*/scale does not match another subresource',
    { groups: ['scalers'], verb: 'update', resource: 'statefulsets.apps/status' },
    false,
    '',
  ],
  [
    '*/scale does not match a resource named scale',
    { groups: ['scalers'], verb: 'get', resource: 'scale' },
    false,
    '',
  ],
  // pods/* is literal.
  [
    'pods/* matches a subresource named *',
    { user: 'bob', verb: 'get', resource: 'pods/*', ns: 'default' },
    true,
    BOB,
  ],
  [
    'pods/* does not match pods/log',
    { user: 'bob', verb: 'get', resource: 'pods/log', ns: 'default' },
    false,
    '',
  ],
  ['pods/* does not match pods', { user: 'bob', verb: 'get', resource: 'pods', ns: 'default' }, false, ''],
  // Non-resource URLs.
  ['GET /healthz', { groups: ['monitors'], verb: 'get', resource: '/healthz' }, true, MONITORS],
  [
    'POST /healthz/ping through /healthz/*',
    { groups: ['monitors'], verb: 'post', resource: '/healthz/ping' },
    true,
    MONITORS,
  ],
  [
    '/healthz/* matches /healthz/',
    { groups: ['monitors'], verb: 'get', resource: '/healthz/' },
    true,
    MONITORS,
  ],
  [
    '/healthz and /healthz/* do not match /healthzfoo',
    { groups: ['monitors'], verb: 'get', resource: '/healthzfoo' },
    false,
    '',
  ],
  [
    'the verb must match for URLs too',
    { groups: ['monitors'], verb: 'delete', resource: '/healthz' },
    false,
    '',
  ],
  [
    'URL rules never match resource requests',
    { groups: ['monitors'], verb: 'get', resource: 'healthz' },
    false,
    '',
  ],
  ['/metrics* matches /metrics', { user: 'prom', verb: 'get', resource: '/metrics' }, true, PROM],
  ['/metrics* matches /metricsfoo', { user: 'prom', verb: 'get', resource: '/metricsfoo' }, true, PROM],
  ['/apis/* does not match /apis', { user: 'prom', verb: 'get', resource: '/apis' }, false, ''],
  ['/apis/* matches /apis/', { user: 'prom', verb: 'get', resource: '/apis/' }, true, PROM],
  ['/apis/* matches /apis/apps/v1', { user: 'prom', verb: 'get', resource: '/apis/apps/v1' }, true, PROM],
  ['a post to a get-only URL', { user: 'prom', verb: 'post', resource: '/metrics' }, false, ''],
  // resourceNames vs requests without a name.
  [
    'update the named configmap',
    { user: 'frank', verb: 'update', resource: 'configmaps', ns: 'default', name: 'my-configmap' },
    true,
    UPDATER('User "frank"'),
  ],
  [
    'list never matches resourceNames',
    { user: 'frank', verb: 'list', resource: 'configmaps', ns: 'default' },
    false,
    '',
  ],
  [
    'create never matches resourceNames',
    { user: 'frank', verb: 'create', resource: 'configmaps', ns: 'default' },
    false,
    '',
  ],
  [
    'another name is not covered',
    { user: 'frank', verb: 'get', resource: 'configmaps', ns: 'default', name: 'other' },
    false,
    '',
  ],
  [
    'the first subject that applies is reported',
    { user: 'frank', groups: ['qa'], verb: 'get', resource: 'configmaps', name: 'my-configmap' },
    true,
    UPDATER('Group "qa"'),
  ],
  [
    'a ServiceAccount subject shows name/namespace',
    { user: 'system:serviceaccount:ci:build', verb: 'get', resource: 'configmaps', name: 'my-configmap' },
    true,
    UPDATER('ServiceAccount "build/ci"'),
  ],
  // ServiceAccounts: usernames vs groups (SAR users are literal).
  [
    'a ClusterRoleBinding to a service account',
    { user: 'system:serviceaccount:ci:deployer', verb: 'delete', resource: 'deployments.apps', ns: 'prod' },
    true,
    DEPLOYER,
  ],
  [
    'verb * matches only a rule verb *',
    { user: 'system:serviceaccount:ci:deployer', verb: '*', resource: 'deployments.apps' },
    true,
    DEPLOYER,
  ],
  [
    'the same name in another namespace is another account',
    { user: 'system:serviceaccount:other:deployer', verb: 'get', resource: 'deployments.apps' },
    false,
    '',
  ],
  [
    'an SA username alone gets nothing bound to its groups',
    { user: 'system:serviceaccount:monitoring:prom-sa', verb: 'get', resource: 'pods' },
    false,
    '',
  ],
  [
    'an SA with its groups spelled out gets the group binding',
    { user: 'system:serviceaccount:monitoring:prom-sa', groups: MON_GROUPS, verb: 'get', resource: 'pods' },
    true,
    MONITORING_SAS,
  ],
  // Aggregation.
  [
    'aggregated rules replace hand-written ones',
    {
      user: 'system:serviceaccount:monitoring:prom-sa',
      groups: MON_GROUPS,
      verb: 'delete',
      resource: 'pods',
    },
    false,
    '',
  ],
  [
    'aggregation brings in non-resource rules',
    {
      user: 'system:serviceaccount:monitoring:prom-sa',
      groups: MON_GROUPS,
      verb: 'get',
      resource: '/metrics',
    },
    true,
    MONITORING_SAS,
  ],
  // Roles named like Object.prototype members.
  [
    'a ClusterRole named __proto__ works',
    { user: 'carol', verb: 'get', resource: 'nodes' },
    true,
    by('ClusterRoleBinding "proto" of ClusterRole "__proto__" to User "carol"'),
  ],
  [
    'a ClusterRole named constructor works',
    { user: 'carol', verb: 'list', resource: 'nodes' },
    true,
    by('ClusterRoleBinding "ctor" of ClusterRole "constructor" to User "carol"'),
  ],
  [
    'nobody named __proto__ is granted anything',
    { user: '__proto__', groups: ['constructor'], verb: 'get', resource: 'nodes' },
    false,
    '',
  ],
  // Broken role references.
  [
    'a broken binding never hides another grant',
    { user: 'erin', verb: 'get', resource: 'pods', ns: 'default' },
    true,
    by('RoleBinding "erin-pods/default" of Role "pod-reader" to User "erin"'),
  ],
  [
    'two resolution errors are aggregated in walk order',
    { user: 'erin', verb: 'get', resource: 'secrets', ns: 'default' },
    false,
    `rbac: RBAC: [${MISSING_CR}, ${MISSING_ROLE}]`,
  ],
  [
    'cluster scope meets only the ClusterRoleBinding error',
    { user: 'erin', verb: 'get', resource: 'secrets' },
    false,
    `rbac: RBAC: ${MISSING_CR}`,
  ],
  [
    'another namespace meets only the ClusterRoleBinding error',
    { user: 'erin', verb: 'get', resource: 'secrets', ns: 'development' },
    false,
    `rbac: RBAC: ${MISSING_CR}`,
  ],
  [
    'errors of bindings for other subjects are not reported',
    { user: 'jane', verb: 'get', resource: 'secrets', ns: 'default' },
    false,
    '',
  ],
  // RoleBinding service-account subjects default to the binding's namespace.
  [
    'an SA subject without namespace means the binding namespace',
    { user: 'system:serviceaccount:development:app', verb: 'get', resource: 'pods/log', ns: 'development' },
    true,
    by('RoleBinding "app-reads-pods/development" of Role "pod-reader" to ServiceAccount "app/development"'),
  ],
  [
    'not an SA of that name elsewhere',
    { user: 'system:serviceaccount:default:app', verb: 'get', resource: 'pods', ns: 'development' },
    false,
    '',
  ],
  [
    'a RoleBinding to an SA with its namespace',
    {
      user: 'system:serviceaccount:default:web',
      verb: 'create',
      resource: 'deployments.apps',
      ns: 'default',
    },
    true,
    by('RoleBinding "web-deploys/default" of ClusterRole "deployment-admin" to ServiceAccount "web/default"'),
  ],
  [
    'a RoleBinding to the namespace SA group',
    {
      user: 'system:serviceaccount:default:other',
      groups: ['system:serviceaccounts:default'],
      verb: 'patch',
      resource: 'deployments.apps',
      ns: 'default',
    },
    true,
    by(
      'RoleBinding "web-deploys/default" of ClusterRole "deployment-admin" to Group "system:serviceaccounts:default"',
    ),
  ],
  [
    'a RoleBinding grant does not leave its namespace',
    {
      user: 'system:serviceaccount:default:web',
      verb: 'create',
      resource: 'deployments.apps',
      ns: 'staging',
    },
    false,
    '',
  ],
  [
    'nor reach cluster scope',
    { user: 'system:serviceaccount:default:web', verb: 'list', resource: 'deployments.apps' },
    false,
    '',
  ],
  // system:masters is allowed before RBAC, with an empty reason.
  [
    'system:masters may do anything',
    { user: 'root', groups: ['system:masters'], verb: 'delete', resource: 'nodes', name: 'n1' },
    true,
    '',
  ],
  [
    'system:masters wins over an RBAC grant',
    { user: 'jane', groups: ['system:masters'], verb: 'get', resource: 'pods', ns: 'default' },
    true,
    '',
  ],
  [
    'system:masters covers URLs too',
    { groups: ['system:masters'], verb: 'put', resource: '/anything' },
    true,
    '',
  ],
];

describe('RBAC decisions over the fixture policy', () => {
  it('has a table of at least 60 decisions', () => {
    expect(rows.length).toBeGreaterThanOrEqual(60);
  });

  it.each(rows)('%s', (_label, request, allowed, reason) => {
    const result = authorizer.authorize(attrs(request));
    expect(result).toEqual({ decision: allowed ? 'allow' : 'no-opinion', reason });
  });
});
