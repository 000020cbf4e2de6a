import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { TokenwardenError } from '../../../src/errors.js';
import { loadPolicyFiles, parsePolicy } from '../../../src/authz/rbac/policy.js';
import { type Policy } from '../../../src/authz/rbac/types.js';
import { FIXTURE_POLICY } from '../helpers.js';

const parse = (text: string, name = 'policy.yaml'): Policy => parsePolicy([{ name, text }]);

function parseError(text: string, name = 'policy.yaml'): string {
  try {
    parse(text, name);
  } catch (err) {
    expect(err).toBeInstanceOf(TokenwardenError);
    expect((err as TokenwardenError).code).toBe('ERR_POLICY_INVALID');
    return (err as Error).message;
  }
  throw new Error('expected a policy error');
}

const ROLE = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: ns}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get]}`;

const binding = (roleRef: string, extra = ''): string => `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: x, namespace: ns}
subjects: [{kind: User, name: u}]
roleRef: ${roleRef}
${extra}`;

describe('parsePolicy', () => {
  it('reads multi-document YAML in order and skips empty documents', () => {
    const policy = parse(`---\n${ROLE}\n---\n---\n${binding('{kind: Role, name: r}')}\n`);
    expect(policy.roles.map((r) => r.name)).toEqual(['r']);
    expect(policy.roleBindings).toHaveLength(1);
    expect(policy.roleBindings[0]!.source).toEqual({ file: 'policy.yaml', document: 3 });
  });

  it('applies kube defaults to roleRef and subject api groups', () => {
    const policy = parse(binding('{kind: ClusterRole, name: view}'));
    expect(policy.roleBindings[0]!.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'view',
    });
    expect(policy.roleBindings[0]!.subjects[0]).toEqual({
      kind: 'User',
      apiGroup: 'rbac.authorization.k8s.io',
      name: 'u',
      namespace: '',
    });
  });

  it('reads JSON documents', () => {
    const json = JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'c' },
      rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }],
    });
    expect(parse(json, 'policy.json').clusterRoles[0]!.rules[0]!.nonResourceURLs).toEqual(['/healthz']);
  });

  it('reads a kind: List as kubectl get -o yaml prints it, managedFields and all', () => {
    const policy = parse(`apiVersion: v1
kind: List
metadata:
  resourceVersion: ""
items:
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata:
    annotations:
      rbac.authorization.kubernetes.io/autoupdate: "true"
    creationTimestamp: "2026-01-01T00:00:00Z"
    labels:
      kubernetes.io/bootstrapping: rbac-defaults
    managedFields:
    - apiVersion: rbac.authorization.k8s.io/v1
      fieldsType: FieldsV1
      fieldsV1:
        f:metadata:
          f:annotations:
            .: {}
            f:rbac.authorization.kubernetes.io/autoupdate: {}
      manager: kube-apiserver
      operation: Update
      time: "2026-01-01T00:00:00Z"
    name: system:basic-user
    resourceVersion: "74"
    uid: 3c2e2b9e-0000-4000-8000-000000000001
  rules:
  - apiGroups:
    - authorization.k8s.io
    resources:
    - selfsubjectaccessreviews
    - selfsubjectrulesreviews
    verbs:
    - create
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRoleBinding
  metadata:
    name: system:basic-user
    resourceVersion: "137"
  roleRef:
    apiGroup: rbac.authorization.k8s.io
    kind: ClusterRole
    name: system:basic-user
  subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: Group
    name: system:authenticated
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata:
    name: system::extension-apiserver-authentication-reader
    namespace: kube-system
  roleRef:
    apiGroup: rbac.authorization.k8s.io
    kind: Role
    name: extension-apiserver-authentication-reader
  subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: system:kube-controller-manager
`);
    expect(policy.clusterRoles.map((r) => r.name)).toEqual(['system:basic-user']);
    expect(policy.clusterRoles[0]!.labels.get('kubernetes.io/bootstrapping')).toBe('rbac-defaults');
    expect(policy.clusterRoleBindings.map((b) => b.name)).toEqual(['system:basic-user']);
    expect(policy.roleBindings[0]!.source).toEqual({ file: 'policy.yaml', document: 1, item: 2 });
  });

  it('reads typed lists whose items carry no kind (RoleList from the API)', () => {
    const policy = parse(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleList
items:
- metadata: {name: r, namespace: ns}
  rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]`);
    expect(policy.roles.map((r) => `${r.namespace}/${r.name}`)).toEqual(['ns/r']);
  });

  it('ignores other kinds with a note', () => {
    const policy = parse(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n---\n${ROLE}`);
    expect(policy.roles).toHaveLength(1);
    expect(policy.notes).toEqual([
      'policy.yaml: document 1: ignored ConfigMap "cm" (v1): not an RBAC object',
    ]);
  });

  it('ignores an RBAC-looking kind of another API group', () => {
    const policy = parse(`apiVersion: example.com/v1\nkind: Role\nmetadata: {name: r}`);
    expect(policy.roles).toHaveLength(0);
    expect(policy.notes[0]).toContain('ignored Role "r" (example.com/v1)');
  });

  it('keeps label keys like __proto__ as data', () => {
    const policy = parse(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: c
  labels: {__proto__: "x", constructor: "y"}`);
    const labels = policy.clusterRoles[0]!.labels;
    expect(labels.get('__proto__')).toBe('x');
    expect(labels.get('constructor')).toBe('y');
    expect(labels.has('toString')).toBe(false);
  });

  it('loads a RoleBinding whose role does not exist (kube stores it too)', () => {
    expect(parse(binding('{kind: Role, name: nowhere}')).roleBindings).toHaveLength(1);
  });
});

describe('parsePolicy errors', () => {
  it('names the file, document, object and field for a bad roleRef kind', () => {
    const msg = parseError(
      `${ROLE}\n---\n${ROLE.replace('name: r,', 'name: r2,')}\n---\n${binding('{kind: Foo, name: r}')}`,
    );
    expect(msg).toContain(
      'policy.yaml: document 3 (RoleBinding "x"): roleRef.kind: Unsupported value: "Foo": supported values: "Role", "ClusterRole"',
    );
  });

  it('refuses a ClusterRoleBinding to a Role, as kube validation does', () => {
    const msg = parseError(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: crb}
subjects: [{kind: Group, name: g}]
roleRef: {kind: Role, name: r}`);
    expect(msg).toContain(
      'document 1 (ClusterRoleBinding "crb"): roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
    );
  });

  it('refuses a ClusterRoleBinding service account without a namespace', () => {
    const msg = parseError(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: crb}
subjects: [{kind: ServiceAccount, name: sa}]
roleRef: {kind: ClusterRole, name: view}`);
    expect(msg).toContain('(ClusterRoleBinding "crb"): subjects[0].namespace: Required value');
  });

  it('refuses unknown subject kinds and wrong subject api groups', () => {
    const msg = parseError(
      binding('{kind: Role, name: r}').replace(
        '[{kind: User, name: u}]',
        '[{kind: Robot, name: u}, {kind: Group, name: g, apiGroup: v1}]',
      ),
    );
    expect(msg).toContain(
      'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    );
    expect(msg).toContain(
      'subjects[1].apiGroup: Unsupported value: "v1": supported values: "rbac.authorization.k8s.io"',
    );
  });

  it('refuses a namespaced object without a namespace', () => {
    expect(parseError(ROLE.replace(', namespace: ns', ''))).toContain(
      'document 1 (Role "r"): metadata.namespace: Required value',
    );
  });

  it('refuses a rule without verbs, groups or resources with kube texts', () => {
    const msg = parseError(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: c}
rules:
- {resources: [pods]}`);
    expect(msg).toContain(
      '(ClusterRole "c"): rules[0].verbs: Required value: verbs must contain at least one value',
    );
    expect(msg).toContain(
      'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
    );
  });

  it('refuses non-resource URLs in a Role and mixed rules', () => {
    const msg = parseError(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: ns}
rules:
- {nonResourceURLs: [/healthz], resources: [pods], verbs: [get]}`);
    expect(msg).toContain(
      'rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs',
    );
    expect(msg).toContain('rules cannot apply to both regular resources and non-resource URLs');
  });

  it('refuses wrong types instead of coercing them', () => {
    const msg = parseError(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: c}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, 7]}`);
    expect(msg).toContain('rules[0].verbs[1]: Invalid type: expected a string, got number');
  });

  it('names the List item that is wrong', () => {
    const msg = parseError(`apiVersion: v1
kind: List
items:
- ${ROLE.split('\n').join('\n  ')}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: Role
  metadata: {name: "a/b", namespace: ns}`);
    expect(msg).toContain(
      `policy.yaml: document 1, items[1] (Role "a/b"): metadata.name: Invalid value: "a/b": may not contain '/'`,
    );
  });

  it('reports YAML syntax errors with the document number', () => {
    expect(parseError(`${ROLE}\n---\nkind: [`)).toMatch(
      /^invalid RBAC policy:\npolicy\.yaml: document 2: invalid YAML: /,
    );
  });

  it('reads merge keys as kube does and refuses a merge that would override a key set above it', () => {
    const merged = parse(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: c}
rules:
- &base {apiGroups: [""], resources: [secrets], verbs: [get], resourceNames: [a]}
- <<: *base
  verbs: [list]`);
    expect(merged.clusterRoles[0]!.rules[1]).toMatchObject({ verbs: ['list'], resourceNames: ['a'] });
    expect(
      parseError(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: c}
rules:
- &base {apiGroups: [""], resources: [secrets], verbs: [get]}
- resourceNames: [a]
  <<: [{resourceNames: []}, *base]`),
    ).toContain(
      'policy.yaml: document 1: invalid YAML: line 7: "<<" merges key "resourceNames" already set above it in the same mapping',
    );
  });

  it('reads YAML 1.1 scalars as kube does: yes/on are booleans and fail a string field, 0777 is a number', () => {
    for (const value of ['yes', 'on', 'n', '0777', '0o17']) {
      expect(parseError(ROLE.replace('verbs: [get]', `verbs: [${value}]`))).toMatch(/verbs\[0\]/);
    }
    // What go-yaml v2 leaves a string stays one.
    const role = parse(
      ROLE.replace('resources: [pods]', 'resources: [pods], resourceNames: ["yes", 12:30, 2001-12-14]'),
    );
    expect(role.roles[0]!.rules[0]!.resourceNames).toEqual(['yes', '12:30', '2001-12-14']);
  });

  it('refuses duplicate keys, which kube would read as one or the other', () => {
    expect(parseError(`${ROLE}\nkind: Role`)).toContain('document 1: invalid YAML');
  });

  it('refuses two objects with the same name, naming both places', () => {
    expect(parseError(`${ROLE}\n---\n${ROLE}`)).toContain(
      'policy.yaml: document 2 (Role "r"): metadata.name: Duplicate value: "r": already defined at policy.yaml: document 1',
    );
  });

  it('refuses other versions of the RBAC API', () => {
    expect(parseError(ROLE.replace('/v1', '/v1beta1'))).toContain(
      'apiVersion: Unsupported value: "rbac.authorization.k8s.io/v1beta1": supported values: "rbac.authorization.k8s.io/v1"',
    );
  });

  it('refuses a document without a kind and a document that is not an object', () => {
    const msg = parseError(`metadata: {name: x}\n---\n- a\n- b`);
    expect(msg).toContain(`policy.yaml: document 1: Object 'Kind' is missing`);
    expect(msg).toContain('policy.yaml: document 2: not an object');
  });

  it('lists every problem across files, not just the first', () => {
    try {
      parsePolicy([
        { name: 'a.yaml', text: binding('{kind: Foo, name: r}') },
        { name: 'b.yaml', text: ROLE.replace('verbs: [get]', 'verbs: []') },
      ]);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toContain('a.yaml: document 1 (RoleBinding "x"): roleRef.kind');
      expect((err as Error).message).toContain(
        'b.yaml: document 1 (Role "r"): rules[0].verbs: Required value',
      );
    }
  });

  it('bounds YAML alias expansion', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++)
      bomb.push(
        `${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(10)
          .fill(i === 1 ? '*a' : `*${'b'.repeat(i - 1)}`)
          .join(', ')}]`,
      );
    expect(
      parseError(
        `kind: ClusterRole\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: c}\n${bomb.join('\n')}`,
      ),
    ).toContain('invalid YAML');
  });
});

describe('loadPolicyFiles', () => {
  it('reads files from disk in the order given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-policy-'));
    writeFileSync(join(dir, 'b.yaml'), ROLE.replace('name: r,', 'name: second,'));
    const policy = await loadPolicyFiles([FIXTURE_POLICY, join(dir, 'b.yaml')]);
    expect(policy.roles.at(-1)!.name).toBe('second');
    expect(policy.clusterRoleBindings.length).toBeGreaterThan(5);
  });

  it('names a file it cannot read', async () => {
    await expect(loadPolicyFiles(['/nonexistent/policy.yaml'])).rejects.toThrow(
      '/nonexistent/policy.yaml: cannot read policy file (ENOENT)',
    );
  });
});

describe('parsePolicy (properties)', () => {
  const str = fc.oneof(
    fc.constantFrom(
      '',
      'r',
      'ns',
      '*',
      'get',
      'pods',
      'User',
      'Group',
      'ServiceAccount',
      'ClusterRole',
      'Role',
      'rbac.authorization.k8s.io',
      '__proto__',
    ),
    fc.string({ maxLength: 6 }),
  );
  const anyValue = fc.oneof(str, fc.jsonValue({ maxDepth: 2 }));
  const strings = fc.oneof(fc.array(str, { maxLength: 3 }), anyValue);
  const rule = fc.record(
    {
      verbs: strings,
      apiGroups: strings,
      resources: strings,
      resourceNames: strings,
      nonResourceURLs: strings,
    },
    { requiredKeys: [] },
  );
  const subject = fc.record(
    { kind: anyValue, apiGroup: anyValue, name: anyValue, namespace: anyValue },
    { requiredKeys: [] },
  );
  const object = fc.record(
    {
      apiVersion: fc.oneof(fc.constant('rbac.authorization.k8s.io/v1'), anyValue),
      kind: fc.oneof(
        fc.constantFrom('Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'List', 'ConfigMap'),
        anyValue,
      ),
      metadata: fc.oneof(
        fc.record({ name: anyValue, namespace: anyValue, labels: anyValue }, { requiredKeys: [] }),
        anyValue,
      ),
      rules: fc.oneof(fc.array(rule, { maxLength: 2 }), anyValue),
      roleRef: fc.oneof(
        fc.record({ apiGroup: anyValue, kind: anyValue, name: anyValue }, { requiredKeys: [] }),
        anyValue,
      ),
      subjects: fc.oneof(fc.array(subject, { maxLength: 2 }), anyValue),
      aggregationRule: anyValue,
      items: anyValue,
    },
    { requiredKeys: ['kind'] },
  );
  const RBAC = 'rbac.authorization.k8s.io';
  const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,6}[a-z0-9]$/);
  const validRule = fc.record({
    verbs: fc.array(fc.constantFrom('get', 'list', '*'), { minLength: 1, maxLength: 2 }),
    apiGroups: fc.constant(['']),
    resources: fc.array(fc.constantFrom('pods', 'secrets', '*'), { minLength: 1, maxLength: 2 }),
  });
  const validSubject = fc.oneof(
    fc.record({ kind: fc.constantFrom('User', 'Group'), apiGroup: fc.constant(RBAC), name }),
    fc.record({ kind: fc.constant('ServiceAccount'), name, namespace: fc.constant('ns') }),
  );
  const validObject = fc
    .oneof(
      fc.record({
        kind: fc.constantFrom('Role', 'ClusterRole'),
        metadata: fc.record({ name, namespace: fc.constant('ns') }),
        rules: fc.array(validRule, { maxLength: 2 }),
      }),
      fc.record({
        kind: fc.constant('RoleBinding'),
        metadata: fc.record({ name, namespace: fc.constant('ns') }),
        roleRef: fc.record({
          apiGroup: fc.constant(RBAC),
          kind: fc.constantFrom('Role', 'ClusterRole'),
          name,
        }),
        subjects: fc.array(validSubject, { maxLength: 2 }),
      }),
      fc.record({
        kind: fc.constant('ClusterRoleBinding'),
        metadata: fc.record({ name }),
        roleRef: fc.record({ apiGroup: fc.constant(RBAC), kind: fc.constant('ClusterRole'), name }),
        subjects: fc.array(validSubject, { maxLength: 2 }),
      }),
    )
    .map((o) => ({ apiVersion: `${RBAC}/v1`, ...o }));
  /** A valid object with one member, at any depth, replaced by an arbitrary value. */
  const perturbed = fc.tuple(validObject, fc.nat(), anyValue).map(([o, at, v]) => {
    const paths: (string | number)[][] = [];
    const walk = (x: unknown, path: (string | number)[]) => {
      paths.push(path);
      if (x && typeof x === 'object')
        for (const [k, c] of Object.entries(x)) walk(c, [...path, Array.isArray(x) ? Number(k) : k]);
    };
    walk(o, []);
    const path = paths[at % paths.length]!;
    if (path.length === 0) return v;
    const copy = structuredClone(o) as Record<string | number, unknown>;
    let parent = copy;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    parent[path.at(-1)!] = v;
    return copy;
  });
  const text = fc.oneof(
    fc
      .array(fc.oneof({ weight: 3, arbitrary: validObject }, { weight: 1, arbitrary: perturbed }), {
        maxLength: 4,
      })
      .map((docs) => docs.map((d) => stringify(d)).join('---\n')),
    fc.array(object, { maxLength: 3 }).map((docs) => docs.map((d) => stringify(d)).join('---\n')),
    fc
      .array(object, { maxLength: 2 })
      .map((items) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items })),
    fc.constantFrom(
      'a: &a [*a]',
      'kind: Role\nkind: Role',
      '--- !!binary AAAA',
      '{',
      '\t- x',
      'kind: [Role]',
    ),
    fc.string({ maxLength: 40 }),
  );

  it('returns a well-formed policy or a policy error naming the file, whatever the file holds', () => {
    fc.assert(
      fc.property(text, (t) => {
        let policy: Policy;
        try {
          policy = parse(t, 'gen.yaml');
        } catch (err) {
          expect(err).toBeInstanceOf(TokenwardenError);
          expect((err as TokenwardenError).code).toBe('ERR_POLICY_INVALID');
          expect((err as Error).message).toContain('gen.yaml');
          return;
        }
        const isStrings = (xs: readonly unknown[]) =>
          Array.isArray(xs) && xs.every((x) => typeof x === 'string');
        for (const role of [...policy.roles, ...policy.clusterRoles]) {
          expect(typeof role.name === 'string' && role.name !== '').toBe(true);
          for (const r of role.rules) {
            for (const list of [r.verbs, r.apiGroups, r.resources, r.resourceNames, r.nonResourceURLs])
              expect(isStrings(list)).toBe(true);
          }
        }
        for (const role of policy.roles)
          expect(typeof role.namespace === 'string' && role.namespace !== '').toBe(true);
        for (const b of [...policy.roleBindings, ...policy.clusterRoleBindings]) {
          expect(['Role', 'ClusterRole']).toContain(b.roleRef.kind);
          expect(typeof b.roleRef.name === 'string' && b.roleRef.name !== '').toBe(true);
          for (const s of b.subjects) {
            expect(['User', 'Group', 'ServiceAccount']).toContain(s.kind);
            expect(typeof s.name === 'string' && s.name !== '').toBe(true);
            expect(typeof s.namespace).toBe('string');
          }
        }
        for (const b of policy.roleBindings)
          expect(typeof b.namespace === 'string' && b.namespace !== '').toBe(true);
        expect(isStrings(policy.notes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
