// Differential SubjectAccessReview: RBAC objects are applied to a real cluster with kubectl, the cluster's whole RBAC
// (bootstrap roles and bindings included) is exported with `kubectl get ... -o yaml` as tokenwarden's policy file,
// and a matrix of identities and requests is asked of both. allowed, denied, reason and the presence of
// evaluationError must match; where two bindings grant, kube names whichever its informer lists first, so a differing
// reason between two allows is accepted once the binding kube named is shown to exist in the policy (reason-order).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';

import {
  localCases,
  matrixCases,
  RBAC_OBJECTS,
  SAR_NAMESPACES,
  SELF_CALLERS,
  selectorAndValidationCases,
  selfCases,
  type ReviewPostCase,
  type SarCase,
} from './cases/sar-cases.js';
import { startCluster, type Cluster } from './harness/cluster.js';
import {
  diffSubjectAccessReviews,
  formatDifferences,
  isManagedFields,
  isReasonOrder,
  Ledger,
  normalizeSubjectAccessReview,
  summaryLine,
  type Mode,
  type NormalSubjectAccessReview,
} from './harness/compare.js';
import { manifestStream, namespace } from './harness/manifests.js';
import { requestJson, type ClientTls, type JsonResponse } from './harness/https.js';
import { waitFor } from './harness/net.js';
import { issueClientCertificate } from './harness/pki.js';
import { clusterTls, startTokenwarden, type Tokenwarden } from './harness/tokenwarden.js';

const VERBOSE = process.env.TOKENWARDEN_E2E_VERBOSE === '1';

let cluster: Cluster;
let tokenwarden: Tokenwarden | undefined;
/** Live mode: no policy file, the cluster's RBAC watched through `--kubeconfig`. */
let liveTokenwarden: Tokenwarden | undefined;
const ledger = new Ledger();
let policyItems: PolicyItem[] = [];

interface PolicyItem {
  kind: string;
  metadata: { name: string; namespace?: string };
  roleRef?: { kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}

async function kubectlOk(args: readonly string[], input?: string): Promise<string> {
  const result = await cluster.kubectl(args, input === undefined ? {} : { input });
  expect(result.code, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

async function kubeAllows(spec: Record<string, unknown>): Promise<boolean> {
  const res = await cluster.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec,
  });
  return (res.body as { status?: { allowed?: boolean } }).status?.allowed === true;
}

/**
 * The binding a kube allow reason names, looked up in the exported policy with the role and subject the reason
 * gives: proof that the grant kube reported is one the policy tokenwarden serves also holds.
 */
function reasonNamesPolicyBinding(reason: string): boolean {
  const m =
    /^RBAC: allowed by (ClusterRoleBinding|RoleBinding) "([^"/]+)(?:\/([^"]+))?" of (Role|ClusterRole) "([^"]+)" to (User|Group|ServiceAccount) "([^"/]+)(?:\/([^"]+))?"$/.exec(
      reason,
    );
  if (!m) return false;
  const [, kind, name, ns, roleKind, roleName, subjectKind, subjectName, subjectNs] = m;
  return policyItems.some(
    (item) =>
      item.kind === kind &&
      item.metadata.name === name &&
      (item.metadata.namespace ?? undefined) === ns &&
      item.roleRef?.kind === roleKind &&
      item.roleRef?.name === roleName &&
      (item.subjects ?? []).some(
        (s) =>
          s.kind === subjectKind &&
          s.name === subjectName &&
          (subjectKind !== 'ServiceAccount' || (s.namespace ?? item.metadata.namespace) === subjectNs),
      ),
  );
}

async function compareSars(
  cases: readonly SarCase[],
  modes: readonly Mode[] = ['offline', 'live'],
): Promise<string[]> {
  const failures: string[] = [];
  for (const c of cases) {
    const body = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: c.spec };
    const kube = normalizeSubjectAccessReview(
      await cluster.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', body),
    );
    for (const mode of modes) {
      failures.push(...(await compareOne(c, (tw) => tw.subjectAccessReview(body), kube, mode)));
    }
  }
  return failures;
}

/** LocalSubjectAccessReviews and SelfSubjectAccessReviews: the same POST, as `tls`'s caller, to both servers. */
async function comparePosts(cases: readonly ReviewPostCase[], tls: ClientTls, label = ''): Promise<string[]> {
  const failures: string[] = [];
  for (const c of cases) {
    const kube = normalizeSubjectAccessReview(await requestJson(cluster.server, tls, 'POST', c.path, c.body));
    const named = { name: label === '' ? c.name : `${label}: ${c.name}` };
    failures.push(
      ...(await compareOne(named, (tw) => requestJson(tw.url, tls, 'POST', c.path, c.body), kube, 'offline')),
    );
  }
  return failures;
}

async function compareOne(
  c: { readonly name: string },
  ask: (tw: Tokenwarden) => Promise<JsonResponse>,
  kube: NormalSubjectAccessReview,
  mode: Mode,
): Promise<string[]> {
  const failures: string[] = [];
  const tw = mode === 'live' ? liveTokenwarden : tokenwarden;
  if (tw === undefined) throw new Error(`tokenwarden (${mode}) did not start`);
  const ours = normalizeSubjectAccessReview(await ask(tw));
  const diffs = diffSubjectAccessReviews(kube, ours);
  let counted: 'match' | 'reason-order' | 'managed-fields' | 'unexplained' =
    diffs.length === 0 ? 'match' : 'unexplained';
  let problem = 'answers differ';
  if (isReasonOrder(kube, ours, diffs)) {
    if (!kube.allowed || reasonNamesPolicyBinding(kube.reason)) counted = 'reason-order';
    else problem = 'kube names a grant that the exported policy does not hold';
  }
  if (isManagedFields(kube, ours, diffs)) counted = 'managed-fields';
  const ok = counted !== 'unexplained';
  const explanation =
    counted === 'managed-fields'
      ? "kube's 422 prints the managedFields its field manager added to the invalid metadata"
      : counted === 'reason-order'
        ? kube.allowed
          ? 'two bindings grant; kube names the first its informer lists'
          : 'several bindings fail to resolve; kube lists their errors in informer order'
        : problem;
  if (VERBOSE) {
    const evaluation =
      kube.evaluationError === undefined ? '' : ` evaluationError ${JSON.stringify(kube.evaluationError)}`;
    console.log(
      `${diffs.length === 0 ? '=' : '≠'} ${c.name}: kube ${kube.answer} allowed=${kube.allowed} ${JSON.stringify(kube.reason)}${evaluation}`,
    );
  }
  ledger.record({
    kind: 'sars',
    mode,
    name: mode === 'live' ? `${c.name} [live]` : c.name,
    counted,
    ok,
    detail: `${explanation}: ${formatDifferences(diffs)}`,
  });
  if (!ok) failures.push(`${c.name} [${mode}]: ${problem}\n    ${formatDifferences(diffs)}`);
  return failures;
}

beforeAll(async () => {
  // RBAC only, as tokenwarden decides: kube's Node authorizer only ever has an opinion about system:node:* users.
  cluster = await startCluster({ binaries: inject('clusterBinaries'), authorizationModes: ['RBAC'] });
  await kubectlOk(['apply', '-f', '-'], manifestStream(SAR_NAMESPACES.map(namespace)));
  await kubectlOk(['apply', '-f', '-'], manifestStream(RBAC_OBJECTS));

  // The aggregation controller fills `monitoring`, and the apiserver's RBAC informers see every object.
  await waitFor(
    'the aggregation controller to fill ClusterRole monitoring',
    async () => {
      const rules = await kubectlOk(['get', 'clusterrole', 'monitoring', '-o', 'jsonpath={.rules}']);
      return rules.includes('widgets') && rules.includes('*/scale') ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  // One grant through the last object of each kind applied (and through the aggregated role).
  const lastObjects = [
    {
      groups: ['system:serviceaccounts:team-a'],
      resourceAttributes: { namespace: 'team-a', verb: 'get', resource: 'configmaps', name: 'app-config' },
    },
    { user: 'bob', resourceAttributes: { namespace: 'team-b', verb: 'list', resource: 'pods' } },
    {
      user: 'grace',
      resourceAttributes: { verb: 'update', group: 'apps', resource: 'replicasets', subresource: 'scale' },
    },
    {
      user: 'alice',
      resourceAttributes: { namespace: 'team-a', verb: 'create', group: 'apps', resource: 'deployments' },
    },
    {
      user: 'dave',
      resourceAttributes: { namespace: 'team-b', verb: 'get', resource: 'pods', subresource: '*' },
    },
  ];
  await waitFor(
    "kube-apiserver's RBAC informers to see the applied objects",
    async () => ((await Promise.all(lastObjects.map(kubeAllows))).every(Boolean) ? true : undefined),
    { timeoutMs: 30_000, intervalMs: 250 },
  );

  const exported = await kubectlOk([
    'get',
    'clusterroles,clusterrolebindings,roles,rolebindings',
    '-A',
    '-o',
    'yaml',
  ]);
  policyItems = (parse(exported) as { items: PolicyItem[] }).items;
  const policyFile = join(cluster.workDir, 'rbac-policy.yaml');
  await writeFile(policyFile, exported);

  const tls = await clusterTls(cluster);
  const identity = [
    '--service-account-issuer',
    cluster.issuer,
    '--service-account-key-file',
    cluster.pki.serviceAccountRsa.publicKeyFile,
  ];
  // Live mode reads the cluster's RBAC itself: no exported file. Ready once every RBAC kind has listed.
  liveTokenwarden = await startTokenwarden({
    name: 'rbac-live',
    workDir: cluster.workDir,
    ...tls,
    args: [...identity, '--kubeconfig', cluster.kubeconfigPath],
  });
  tokenwarden = await startTokenwarden({
    name: 'rbac',
    workDir: cluster.workDir,
    ...tls,
    // SelfSubjectAccessReview: the caller is the client certificate, as kube-apiserver authenticates it.
    args: [...identity, '--rbac-policy-file', policyFile, '--client-ca-file', cluster.pki.caFile],
  });
});

afterAll(async () => {
  ledger.flush(inject('ledgerDir'), 'subjectaccessreview-diff');
  console.log(
    `SubjectAccessReview differences (kube-apiserver v1.37.2 vs tokenwarden):\n${ledger.report('sars') || '  none'}\n` +
      `${policyItems.length} RBAC objects exported; ${summaryLine(ledger.counts('tokens'), ledger.counts('sars'))}\n` +
      summaryLine(ledger.counts('tokens', 'live'), ledger.counts('sars', 'live'), 'live'),
  );
  await Promise.allSettled([tokenwarden?.stop(), liveTokenwarden?.stop()]);
  await cluster?.stop();
});

const adminTls = (): ClientTls => ({
  caFile: cluster.pki.caFile,
  certFile: cluster.pki.adminCertFile,
  keyFile: cluster.pki.adminKeyFile,
});

function expectNoFailures(failures: readonly string[]): void {
  expect(failures, `unexplained differences:\n${failures.join('\n')}`).toEqual([]);
}

describe("SubjectAccessReview: kube-apiserver's RBAC and tokenwarden on the exported policy", () => {
  it('exports the whole RBAC, bootstrap roles and the aggregated role included', () => {
    const names = new Set(policyItems.map((i) => `${i.kind}/${i.metadata.name}`));
    for (const expected of [
      'ClusterRole/cluster-admin',
      'ClusterRole/system:basic-user',
      'ClusterRoleBinding/system:discovery',
      'ClusterRole/monitoring',
      'Role/deployer',
      'RoleBinding/alice-deployer',
    ]) {
      expect(names.has(expected), expected).toBe(true);
    }
  });

  it('a matrix of users, groups, service accounts, verbs, resources, names, namespaces, URLs and impersonation', async () => {
    expectNoFailures(await compareSars(matrixCases()));
  });

  it('selectors and invalid reviews', async () => {
    expectNoFailures(await compareSars(selectorAndValidationCases()));
  });

  it('live mode follows RBAC objects added, changed and removed while serving, within seconds', async () => {
    const NS = 'team-a';
    const spec = (verb: string) => ({
      user: 'zed',
      groups: ['system:authenticated'],
      resourceAttributes: { namespace: NS, verb, resource: 'configmaps' },
    });
    const role = (verbs: string[]) =>
      manifestStream([
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'zed-configmaps', namespace: NS },
          rules: [{ apiGroups: [''], resources: ['configmaps'], verbs }],
        },
      ]);
    const binding = manifestStream([
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'zed-configmaps', namespace: NS },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'zed-configmaps' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'zed' }],
      },
    ]);
    const live = liveTokenwarden!;
    const allowedBy = async (ask: (body: unknown) => Promise<JsonResponse>, verb: string) =>
      normalizeSubjectAccessReview(
        await ask({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: spec(verb) }),
      ).allowed;
    const kubeAsk = (body: unknown) =>
      cluster.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', body);
    const followed: string[] = [];
    // Each step: change the cluster, wait (bounded) until kube and live tokenwarden both give the new answer, then
    // compare the whole answers. The bound is the assertion; the time taken is printed.
    const step = async (name: string, change: () => Promise<unknown>, want: Record<string, boolean>) => {
      const started = Date.now();
      await change();
      for (const [who, ask] of [
        ['kube-apiserver', kubeAsk],
        ['live tokenwarden', (b: unknown) => live.subjectAccessReview(b)],
      ] as const) {
        await waitFor(
          `${who} to answer as the RBAC objects now say (${name})`,
          async () => {
            for (const [verb, allowed] of Object.entries(want)) {
              if ((await allowedBy(ask, verb)) !== allowed) return undefined;
            }
            return true;
          },
          { timeoutMs: 30_000, intervalMs: 100 },
        );
        followed.push(`${name}: ${who} after ${Date.now() - started} ms`);
      }
      const cases = Object.keys(want).map((verb) => ({
        name: `while serving, ${name}: ${verb}`,
        spec: spec(verb),
      }));
      expectNoFailures(await compareSars(cases, ['live']));
    };

    await step('nothing granted yet', async () => {}, { list: false, get: false });
    await step(
      'Role and RoleBinding added',
      () => kubectlOk(['apply', '-f', '-'], `${role(['list'])}---\n${binding}`),
      {
        list: true,
        get: false,
      },
    );
    await step('Role changed to get only', () => kubectlOk(['apply', '-f', '-'], role(['get'])), {
      list: false,
      get: true,
    });
    await step(
      'RoleBinding removed',
      () => kubectlOk(['delete', 'rolebinding', 'zed-configmaps', '-n', NS]),
      {
        list: false,
        get: false,
      },
    );
    console.log(`live mode followed the RBAC changes:\n  ${followed.join('\n  ')}`);
  });

  it('LocalSubjectAccessReview: the namespace from the path, checked against the body', async () => {
    expectNoFailures(await comparePosts(localCases(), adminTls()));
  });

  it('SelfSubjectAccessReview: each caller asks about itself, identified by its client certificate', async () => {
    const failures: string[] = [];
    for (const caller of SELF_CALLERS) {
      const issued = await issueClientCertificate(
        cluster.workDir,
        `self-${caller.commonName}`,
        {
          commonName: caller.commonName,
          ...(caller.organization === undefined ? {} : { organization: caller.organization }),
        },
        { caFile: cluster.pki.caFile, caKeyFile: cluster.pki.caKeyFile },
      );
      const tls = { caFile: cluster.pki.caFile, certFile: issued.cert, keyFile: issued.key };
      failures.push(...(await comparePosts(selfCases(), tls, caller.label)));
    }
    expectNoFailures(failures);
  });

  it('compared at least 300 SubjectAccessReviews', () => {
    expect(ledger.counts('sars').compared).toBeGreaterThanOrEqual(300);
  });
});
