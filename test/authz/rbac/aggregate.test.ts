import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../src/authz/rbac/policy.js';
import { type ClusterRole } from '../../../src/authz/rbac/types.js';

function clusterRoles(yaml: string): Map<string, ClusterRole> {
  const policy = parsePolicy([{ name: 'agg.yaml', text: yaml }]);
  return new Map(policy.clusterRoles.map((r) => [r.name, r]));
}

const role = (
  name: string,
  labels: Record<string, string>,
  rules: string,
  aggregation = '',
): string => `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ${name}
  labels: ${JSON.stringify(labels)}
${aggregation}
rules: ${rules}
---
`;

const rule = (verb: string, resource: string): string =>
  `{apiGroups: [""], resources: [${resource}], verbs: [${verb}]}`;

describe('ClusterRole aggregation', () => {
  it('replaces the hand-written rules with those of the selected roles', () => {
    const roles = clusterRoles(
      role(
        'agg',
        {},
        `[${rule('delete', 'nodes')}]`,
        'aggregationRule: {clusterRoleSelectors: [{matchLabels: {pick: "yes"}}]}',
      ) + role('a', { pick: 'yes' }, `[${rule('get', 'pods')}]`),
    );
    expect(roles.get('agg')!.rules).toEqual([
      { verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: [], nonResourceURLs: [] },
    ]);
  });

  it('takes selectors in order and roles sorted by name, skipping rules already present', () => {
    const roles = clusterRoles(
      role(
        'agg',
        {},
        '[]',
        'aggregationRule: {clusterRoleSelectors: [{matchLabels: {second: "1"}}, {matchLabels: {first: "1"}}]}',
      ) +
        role('zeta', { first: '1' }, `[${rule('get', 'z')}]`) +
        role('alpha', { first: '1' }, `[${rule('get', 'a')}, ${rule('get', 's')}]`) +
        role('second', { second: '1' }, `[${rule('get', 's')}]`),
    );
    expect(roles.get('agg')!.rules.map((r) => r.resources[0])).toEqual(['s', 'a', 'z']);
  });

  it('treats rules as equal only when every list matches in order', () => {
    const roles = clusterRoles(
      role('agg', {}, '[]', 'aggregationRule: {clusterRoleSelectors: [{matchLabels: {x: "1"}}]}') +
        role('a', { x: '1' }, `[{apiGroups: [""], resources: [pods], verbs: [get, list]}]`) +
        role(
          'b',
          { x: '1' },
          `[{apiGroups: [""], resources: [pods], verbs: [list, get]}, {apiGroups: [""], resources: [pods], verbs: [get, list]}]`,
        ),
    );
    expect(roles.get('agg')!.rules.map((r) => r.verbs)).toEqual([
      ['get', 'list'],
      ['list', 'get'],
    ]);
  });

  it('never selects the role itself, even when its labels match', () => {
    const roles = clusterRoles(
      role(
        'self',
        { x: '1' },
        `[${rule('delete', 'nodes')}]`,
        'aggregationRule: {clusterRoleSelectors: [{matchLabels: {x: "1"}}]}',
      ),
    );
    expect(roles.get('self')!.rules).toEqual([]);
  });

  it('matches every ClusterRole with an empty selector', () => {
    const roles = clusterRoles(
      role('all', {}, '[]', 'aggregationRule: {clusterRoleSelectors: [{}]}') +
        role('a', {}, `[${rule('get', 'a')}]`) +
        role('b', { y: '2' }, `[${rule('get', 'b')}]`),
    );
    expect(roles.get('all')!.rules.map((r) => r.resources[0])).toEqual(['a', 'b']);
  });

  it('supports In, NotIn, Exists and DoesNotExist expressions', () => {
    const others =
      role('p', { tier: 'gold' }, `[${rule('get', 'p')}]`) +
      role('q', { tier: 'silver' }, `[${rule('get', 'q')}]`) +
      role('r', {}, `[${rule('get', 'r')}]`);
    const selected = (expr: string): (string | undefined)[] =>
      clusterRoles(
        role('agg', {}, '[]', `aggregationRule: {clusterRoleSelectors: [{matchExpressions: [${expr}]}]}`) +
          others,
      )
        .get('agg')!
        .rules.map((r) => r.resources[0]);
    expect(selected('{key: tier, operator: In, values: [gold, bronze]}')).toEqual(['p']);
    // NotIn also matches roles that do not carry the label at all.
    expect(selected('{key: tier, operator: NotIn, values: [gold]}')).toEqual(['q', 'r']);
    expect(selected('{key: tier, operator: Exists}')).toEqual(['p', 'q']);
    expect(selected('{key: tier, operator: DoesNotExist}')).toEqual(['r']);
  });

  it('resolves nested aggregation to a fixed point', () => {
    const roles = clusterRoles(
      role(
        'admin',
        {},
        '[]',
        'aggregationRule: {clusterRoleSelectors: [{matchLabels: {to-admin: "true"}}]}',
      ) +
        role(
          'edit',
          { 'to-admin': 'true' },
          '[]',
          'aggregationRule: {clusterRoleSelectors: [{matchLabels: {to-edit: "true"}}]}',
        ) +
        role(
          'view',
          { 'to-edit': 'true' },
          '[]',
          'aggregationRule: {clusterRoleSelectors: [{matchLabels: {to-view: "true"}}]}',
        ) +
        role('view-pods', { 'to-view': 'true' }, `[${rule('get', 'pods')}]`) +
        role('edit-pods', { 'to-edit': 'true' }, `[${rule('update', 'pods')}]`),
    );
    expect(roles.get('view')!.rules.map((r) => r.verbs[0])).toEqual(['get']);
    expect(roles.get('edit')!.rules.map((r) => r.verbs[0])).toEqual(['update', 'get']);
    expect(roles.get('admin')!.rules.map((r) => r.verbs[0])).toEqual(['update', 'get']);
  });

  it('refuses invalid selectors at load time with kube texts', () => {
    expect(() =>
      clusterRoles(
        role(
          'bad',
          {},
          '[]',
          'aggregationRule: {clusterRoleSelectors: [{matchExpressions: [{key: k, operator: In}]}]}',
        ),
      ),
    ).toThrow(
      "aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    );
    expect(() => clusterRoles(role('bad', {}, '[]', 'aggregationRule: {clusterRoleSelectors: []}'))).toThrow(
      'aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil',
    );
  });
});
