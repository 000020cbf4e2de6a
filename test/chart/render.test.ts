// charts/tokenwarden rendered by a real Helm over every way of installing it, with the rendered objects checked.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, parseAllDocuments, parseDocument, type YAMLMap } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasServiceAccountKeys } from '../../src/compose/key-sources.js';
import { loadConfig, requireTokenSettings } from '../../src/config/load.js';
import { authenticationOptions } from '../../src/config/options.js';
import { optionsFor } from '../../src/config/schema.js';
import {
  CHART,
  find,
  helm,
  installDryRun,
  lint,
  NAMESPACE,
  only,
  podSpec,
  render,
  renderError,
  type K8sObject,
  type Rendered,
  HELM_BUILD_TIMEOUT_MS,
} from './helm.js';
import { VALUES_SETS } from './values-sets.js';

const SERVE_FLAGS = new Map(optionsFor('serve').map((o) => [o.name, o]));
const CLUSTER_SCOPED = new Set(['ClusterRole', 'ClusterRoleBinding']);

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const rendered = new Map<string, Rendered>();

beforeAll(async () => {
  helm();
  for (const [name, values] of Object.entries(VALUES_SETS)) rendered.set(name, await render(values));
}, HELM_BUILD_TIMEOUT_MS);

const sets = Object.keys(VALUES_SETS);
const objectsOf = (set: string): readonly K8sObject[] => rendered.get(set)!.objects;

/** `--name=value` / `--name` pairs of the container's arguments after the command name. */
function flags(args: readonly string[]): { name: string; value: string | undefined }[] {
  return args.slice(1).map((a) => {
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(a);
    if (!m) throw new Error(`argument ${JSON.stringify(a)} is not a --flag`);
    return { name: m[1]!, value: m[2] };
  });
}

describe.each(sets)('the chart rendered with the %s values', (set) => {
  it('passes helm lint --strict', async () => {
    expect(await lint(VALUES_SETS[set])).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('runs `tokenwarden serve` through the image entrypoint with only flags serve has, each with a value of its type', () => {
    const [container] = podSpec(objectsOf(set)).containers;
    expect(container!.command).toBeUndefined();
    expect(container!.args![0]).toBe('serve');
    for (const { name, value } of flags(container!.args!)) {
      const option = SERVE_FLAGS.get(name);
      expect(option, `--${name} is not a flag of tokenwarden serve`).toBeDefined();
      if (option!.type === 'bool') expect(value, `--${name} is a boolean flag`).toBeUndefined();
      else expect(value, `--${name} needs a value`).toMatch(/./);
      if (option!.type === 'int') expect(value).toMatch(/^[0-9]+$/);
      if (option!.type === 'duration') expect(value).toMatch(/^[0-9]+(ms|s|m|h)$/);
      if (option!.values) expect(option!.values).toContain(value);
      expect(option!.deprecatedAliasOf, `--${name} is a deprecated name`).toBeUndefined();
    }
    const single = flags(container!.args!).filter((f) => !SERVE_FLAGS.get(f.name)!.repeatable);
    expect(new Set(single.map((f) => f.name)).size, 'a non-repeatable flag is given twice').toBe(
      single.length,
    );
  });

  it('runs as a numeric non-root user with a read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
    const pod = podSpec(objectsOf(set));
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    for (const c of pod.containers) {
      expect(c.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(c.securityContext!.runAsUser).toBeGreaterThan(0);
      const tmp = c.volumeMounts!.find((m) => m.mountPath === '/tmp');
      expect(pod.volumes!.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    }
  });

  it('mounts every volume it names, whole (no subPath, so Secret and ConfigMap updates reach the process)', () => {
    const pod = podSpec(objectsOf(set));
    const volumes = new Set(pod.volumes!.map((v) => v.name));
    for (const m of pod.containers[0]!.volumeMounts!) {
      expect(volumes, m.name).toContain(m.name);
      expect(m.subPath).toBeUndefined();
    }
  });

  it('probes /livez and /readyz over HTTPS on the serving port, and drains before the kubelet kills it', () => {
    const pod = podSpec(objectsOf(set));
    const c = pod.containers[0]!;
    expect(c.livenessProbe!.httpGet).toEqual({ path: '/livez', port: 'https', scheme: 'HTTPS' });
    expect(c.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'https', scheme: 'HTTPS' });
    expect(c.startupProbe!.httpGet).toEqual({ path: '/livez', port: 'https', scheme: 'HTTPS' });
    const port = c.ports!.find((p) => p.name === 'https')!.containerPort;
    expect(c.args).toContain(`--secure-port=${port}`);
    const seconds = (flag: string): number =>
      Number(/^([0-9]+)s$/.exec(flags(c.args!).find((f) => f.name === flag)!.value!)![1]);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(
      seconds('shutdown-delay-duration') + seconds('shutdown-timeout'),
    );
    expect(c.resources!.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
  });

  it('names every image with a version, never latest', () => {
    for (const c of podSpec(objectsOf(set)).containers) {
      const tag = /:([^/@]+)(@sha256:[a-f0-9]{64})?$/.exec(c.image)?.[1];
      expect(tag, c.image).toBeDefined();
      expect(tag).not.toBe('latest');
    }
  });

  it('puts namespaced objects in the release namespace and leaves cluster-scoped ones without one', () => {
    for (const o of objectsOf(set)) {
      if (CLUSTER_SCOPED.has(o.kind))
        expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBeUndefined();
      else expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe(NAMESPACE);
    }
  });

  it('asks the cluster for no permission beyond live mode list/watch and review creation', () => {
    const roles = [...find(objectsOf(set), 'ClusterRole'), ...find(objectsOf(set), 'Role')];
    for (const role of roles) {
      for (const rule of role.rules as Rule[]) {
        for (const field of [rule.apiGroups, rule.resources, rule.verbs]) expect(field).not.toContain('*');
        const reviews = rule.resources.every((r) => r === 'tokenreviews' || r === 'subjectaccessreviews');
        expect(rule.verbs).toEqual(reviews ? ['create'] : ['list', 'watch']);
      }
    }
  });

  it('spreads pods over nodes and zones and keeps one through voluntary disruptions', () => {
    const pod = podSpec(objectsOf(set));
    expect(pod.topologySpreadConstraints!.map((t) => t.topologyKey)).toEqual([
      'kubernetes.io/hostname',
      'topology.kubernetes.io/zone',
    ]);
    const pdb = only(objectsOf(set), 'PodDisruptionBudget') as K8sObject & {
      spec: { maxUnavailable: number };
    };
    expect(pdb.spec.maxUnavailable).toBe(1);
  });
});

describe('the chart with its default values', () => {
  it('needs no Kubernetes RBAC at all', () => {
    for (const kind of ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'])
      expect(find(objectsOf('defaults'), kind)).toEqual([]);
  });

  it("verifies the cluster's own service-account tokens with keys from kube-apiserver's JWKS, fetched with the pod's projected token", () => {
    const pod = podSpec(objectsOf('defaults'));
    const args = pod.containers[0]!.args!;
    const issuer = 'https://kubernetes.default.svc.cluster.local';
    const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
    expect(args).toEqual(
      expect.arrayContaining([
        `--service-account-issuer=${issuer}`,
        `--service-account-jwks-uri=${issuer}=https://kubernetes.default.svc/openid/v1/jwks`,
        `--service-account-jwks-ca-file=${issuer}=${sa}/ca.crt`,
        `--service-account-jwks-token-file=${issuer}=${sa}/token`,
        '--service-account-legacy-tokens=reject',
      ]),
    );
    const projected = pod.volumes!.find((v) => v.name === 'serviceaccount')!.projected!;
    expect(projected.sources.map((s) => Object.keys(s)[0])).toEqual([
      'serviceAccountToken',
      'configMap',
      'downwardAPI',
    ]);
    expect(projected.sources[1]!.configMap!.name).toBe('kube-root-ca.crt');
  });

  it('authorizes callers, allowing kubeadm’s kube-apiserver client to create reviews and no one else', () => {
    const args = podSpec(objectsOf('defaults')).containers[0]!.args!;
    expect(args).toContain('--authorize-callers');
    expect(args).toContain('--client-ca-file=/etc/tokenwarden/client-ca/ca.crt');
    expect(args).toContain('--rbac-policy-file=/etc/tokenwarden/policy/callers.yaml');
    const cm = only(objectsOf('defaults'), 'ConfigMap') as K8sObject & { data: Record<string, string> };
    const policy = parseAllDocuments(cm.data['callers.yaml']!).map(
      (d) => d.toJS() as K8sObject & Record<string, never>,
    );
    const binding = policy.find((o) => o.kind === 'ClusterRoleBinding') as unknown as {
      subjects: { kind: string; name: string }[];
      roleRef: { name: string };
    };
    expect(binding.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kube-apiserver-kubelet-client' },
    ]);
    const role = policy.find((o) => o.kind === 'ClusterRole') as unknown as {
      metadata: { name: string };
      rules: Rule[];
    };
    expect(role.metadata.name).toBe(binding.roleRef.name);
    expect(role.rules.flatMap((r) => r.verbs)).toEqual(['create', 'create']);
  });

  it('generates a serving certificate for the Service names, signed by the CA that NOTES.txt prints in both webhook kubeconfigs', async () => {
    const { objects, notes } = await installDryRun();
    const secret = only(objects, 'Secret', 'tw-tokenwarden-tls') as K8sObject & {
      data: Record<string, string>;
    };
    const pem = (k: string): string => Buffer.from(secret.data[k]!, 'base64').toString('utf8');
    const ca = new X509Certificate(pem('ca.crt'));
    const leaf = new X509Certificate(pem('tls.crt'));
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toContain('DNS:tw-tokenwarden.tokenwarden.svc');
    expect(
      leaf.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(pem('tls.key')))),
    ).toBe(true);
    const caData = [...notes.matchAll(/certificate-authority-data: (\S+)/g)].map((m) => m[1]);
    expect(caData).toEqual([secret.data['ca.crt'], secret.data['ca.crt']]);
    expect(notes).toContain(
      'server: https://tw-tokenwarden.tokenwarden.svc:443/apis/authentication.k8s.io/v1/tokenreviews',
    );
    expect(notes).toContain(
      'server: https://tw-tokenwarden.tokenwarden.svc:443/apis/authorization.k8s.io/v1/subjectaccessreviews',
    );
    expect(notes).toContain('--authentication-token-webhook-config-file=');
    expect(notes).toContain('--authorization-webhook-config-file=');
  });

  it('admits traffic only to the HTTPS port', () => {
    const np = only(objectsOf('defaults'), 'NetworkPolicy') as K8sObject & {
      spec: { policyTypes: string[]; ingress: { ports: { port: string }[] }[] };
    };
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec.ingress).toEqual([{ ports: [{ port: 'https', protocol: 'TCP' }] }]);
    expect(find(objectsOf('defaults'), 'HorizontalPodAutoscaler')).toEqual([]);
    expect(only(objectsOf('defaults'), 'Deployment').spec).toMatchObject({ replicas: 2 });
  });
});

describe('the chart with other values', () => {
  it('issues the certificate through cert-manager, from its own CA Issuer unless one is named', () => {
    const own = objectsOf('cert-manager');
    expect(find(own, 'Secret')).toEqual([]);
    expect(find(own, 'Issuer').map((o) => o.metadata.name)).toEqual([
      'tw-tokenwarden-selfsigned',
      'tw-tokenwarden-ca',
    ]);
    const cert = only(own, 'Certificate', 'tw-tokenwarden') as K8sObject & {
      spec: { secretName: string; issuerRef: { name: string }; dnsNames: string[] };
    };
    expect(cert.spec.secretName).toBe('tw-tokenwarden-tls');
    expect(cert.spec.issuerRef.name).toBe('tw-tokenwarden-ca');
    expect(cert.spec.dnsNames).toContain('tw-tokenwarden.tokenwarden.svc');
    const tlsVolume = podSpec(own).volumes!.find((v) => v.name === 'tls')!;
    expect(tlsVolume.secret!.secretName).toBe('tw-tokenwarden-tls');

    const named = objectsOf('cert-manager with an issuer');
    expect(find(named, 'Issuer')).toEqual([]);
    expect(only(named, 'Certificate').spec).toMatchObject({
      issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer' },
    });
  });

  it('serves an existing Secret and renders none', () => {
    const objects = objectsOf('existing Secret');
    expect(find(objects, 'Secret')).toEqual([]);
    expect(find(objects, 'Certificate')).toEqual([]);
    expect(podSpec(objects).volumes!.find((v) => v.name === 'tls')!.secret!.secretName).toBe(
      'tokenwarden-serving',
    );
  });

  it('runs live mode in-cluster, with list and watch on exactly the objects tokens are bound to and RBAC, bound to its own ServiceAccount', () => {
    const objects = objectsOf('live mode');
    const role = only(objects, 'ClusterRole') as K8sObject & { rules: Rule[] };
    expect(role.rules).toEqual([
      {
        apiGroups: [''],
        resources: ['serviceaccounts', 'secrets', 'pods', 'nodes'],
        verbs: ['list', 'watch'],
      },
      {
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'],
        verbs: ['list', 'watch'],
      },
    ]);
    const binding = only(objects, 'ClusterRoleBinding') as K8sObject & {
      subjects: unknown[];
      roleRef: { name: string };
    };
    expect(binding.roleRef.name).toBe(role.metadata.name);
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'tw-tokenwarden', namespace: NAMESPACE },
    ]);
    const pod = podSpec(objects);
    expect(pod.serviceAccountName).toBe('tw-tokenwarden');
    const c = pod.containers[0]!;
    expect(c.args).toEqual(expect.arrayContaining(['--in-cluster-config', '--live-staleness-bound=5m']));
    // The in-cluster config reads the token, CA and namespace at the standard path; the chart projects all three.
    const mount = c.volumeMounts!.find(
      (m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount',
    )!;
    const projected = pod.volumes!.find((v) => v.name === mount.name)!.projected!;
    expect(
      projected.sources.flatMap((s) => [
        ...(s.serviceAccountToken ? [s.serviceAccountToken.path] : []),
        ...(s.configMap?.items ?? []).map((i) => i.path),
        ...(s.downwardAPI?.items ?? []).map((i) => i.path),
      ]),
    ).toEqual(['token', 'ca.crt', 'namespace']);
    for (const set of sets.filter((s) => !s.startsWith('live mode')))
      expect(podSpec(objectsOf(set)).containers[0]!.args, set).not.toContain('--in-cluster-config');
    for (const set of sets.filter((s) => s !== 'live mode, delegating'))
      for (const flag of ['--delegate-unknown-tokens', '--delegate-authorization'])
        expect(podSpec(objectsOf(set)).containers[0]!.args, set).not.toContain(flag);
  });

  it('adds create on tokenreviews and subjectaccessreviews, and the flags, only for the delegation values', async () => {
    const objects = objectsOf('live mode, delegating');
    const role = only(objects, 'ClusterRole') as K8sObject & { rules: Rule[] };
    expect(role.rules.slice(2)).toEqual([
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ]);
    expect(podSpec(objects).containers[0]!.args).toEqual(
      expect.arrayContaining([
        '--in-cluster-config',
        '--delegate-unknown-tokens',
        '--delegate-authorization',
      ]),
    );
    for (const [value, flag, resource] of [
      ['delegateUnknownTokens', '--delegate-unknown-tokens', 'tokenreviews'],
      ['delegateAuthorization', '--delegate-authorization', 'subjectaccessreviews'],
    ] as const) {
      const one = (await render({ live: { enabled: true, [value]: true } })).objects;
      const rules = (only(one, 'ClusterRole') as K8sObject & { rules: Rule[] }).rules;
      expect(rules.flatMap((r) => r.resources).filter((r) => r.endsWith('reviews'))).toEqual([resource]);
      const args = podSpec(one).containers[0]!.args!;
      expect(args.filter((a) => a.startsWith('--delegate-'))).toEqual([flag]);
    }
  });

  it("with live mode and no issuer, renders a serve that takes the cluster's issuer and keys from kube-apiserver", () => {
    const args = podSpec(objectsOf('live mode, issuer discovered')).containers[0]!.args!;
    const names = flags(args).map((f) => f.name);
    expect(names).toContain('in-cluster-config');
    for (const keyFlag of [
      'service-account-issuer',
      'service-account-key-file',
      'service-account-jwks-uri',
      'service-account-issuer-discovery',
      'api-audiences',
    ])
      expect(names).not.toContain(keyFlag);
    // The rendered command line as serve reads it: accepted, live, with no key source of its own, which is
    // what makes compose read the issuer and keys from the apiserver (test/compose/authentication.test.ts).
    // Files of the pod (its serving certificate) are left out: loadConfig checks that they can be read.
    const config = loadConfig(
      'serve',
      args.slice(1).filter((a, i) => SERVE_FLAGS.get(flags(args)[i]!.name)!.type !== 'path'),
    );
    expect(() => requireTokenSettings(config, config.rbacPolicyFiles.length > 0)).not.toThrow();
    const authentication = authenticationOptions(config);
    expect(authentication.live).toBeDefined();
    expect(hasServiceAccountKeys(authentication.serviceAccounts.keys)).toBe(false);
    expect(authentication.serviceAccounts.issuers).toEqual([]);
    expect(authentication.apiAudiences).toEqual([]);
  });

  it('prints only the authorization webhook kubeconfig for an authorization-only install, with the policy mounted', async () => {
    const { notes } = await installDryRun(VALUES_SETS['authorization-only']);
    expect(notes).toContain('/apis/authorization.k8s.io/v1/subjectaccessreviews');
    expect(notes).not.toContain('/apis/authentication.k8s.io/v1/tokenreviews\n');
    expect(notes).not.toContain('--authentication-token-webhook-config-file');
    const args = podSpec(objectsOf('authorization-only')).containers[0]!.args!;
    expect(args).toContain('--rbac-policy-file=/etc/tokenwarden/policy/policy.yaml');
    expect(
      args.filter((a) => a.startsWith('--service-account-') && !a.startsWith('--service-account-legacy')),
    ).toEqual([]);
  });

  it('renders every optional part when asked: HPA instead of replicas, ServiceMonitor, PrometheusRule, dashboard, key files', () => {
    const objects = objectsOf('everything');
    expect(only(objects, 'Deployment').spec).not.toHaveProperty('replicas');
    expect(only(objects, 'HorizontalPodAutoscaler').spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(only(objects, 'ServiceMonitor').spec).toMatchObject({
      endpoints: [
        {
          port: 'https',
          scheme: 'https',
          path: '/metrics',
          bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
        },
      ],
    });
    const callers = parseAllDocuments(
      (only(objects, 'ConfigMap', 'tw-tokenwarden-policy') as K8sObject & { data: Record<string, string> })
        .data['callers.yaml']!,
    ).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string }; rules?: unknown; subjects?: unknown },
    );
    const reader = callers.filter((o) => o.metadata.name === 'tokenwarden:metrics-reader');
    expect(reader.map((o) => o.kind)).toEqual(['ClusterRole', 'ClusterRoleBinding']);
    expect(reader[0]!.rules).toEqual([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
    expect(reader[1]!.subjects).toEqual([
      { kind: 'ServiceAccount', namespace: 'monitoring', name: 'prometheus-k8s' },
    ]);
    const rule = only(objects, 'PrometheusRule') as K8sObject & {
      spec: { groups: { rules: { alert: string }[] }[] };
    };
    expect(rule.spec.groups[0]!.rules.map((r) => r.alert)).toContain('TokenwardenKeysStale');
    const dashboard = only(objects, 'ConfigMap', 'tw-tokenwarden-dashboard') as K8sObject & {
      data: Record<string, string>;
    };
    expect((JSON.parse(dashboard.data['tokenwarden.json']!) as { title: string }).title).toBe('tokenwarden');
    const args = podSpec(objects).containers[0]!.args!;
    expect(args).toEqual(
      expect.arrayContaining([
        '--service-account-key-file=/etc/tokenwarden/keys/sa-pub/sa.pub',
        '--service-account-key-file=/etc/tokenwarden/keys/old-keys/keys.jwks',
        '--authentication-config=/etc/tokenwarden/authentication/authentication-config.yaml',
        '--token-auth-file=/etc/tokenwarden/token-auth/tokens.csv',
        '--rbac-policy-file=/etc/tokenwarden/policies/exported-rbac/rbac.yaml',
        '--service-account-issuer-discovery',
        '--cache-size=50000',
        '--workers=auto',
        '--gc-duration-metric',
      ]),
    );
    expect(args, "an extra flag replaces the chart's own").not.toContain('--cache-size=10000');
    for (const set of sets.filter((s) => s !== 'everything'))
      expect(podSpec(objectsOf(set)).containers[0]!.args, set).not.toContain('--gc-duration-metric');
    const service = only(objects, 'Service').spec as { clusterIP: string };
    expect(service.clusterIP).toBe('10.96.0.50');
  });
});

describe("the chart's values", () => {
  interface SchemaNode {
    properties?: Record<string, SchemaNode>;
    additionalProperties?: unknown;
  }

  /** Every value path, whether a comment documents it (its own, or a documented object's above it), and whether the schema names it. */
  function audit(
    map: YAMLMap,
    path: string[],
    inherited: boolean,
    schema: SchemaNode | undefined,
    out: string[],
  ): void {
    map.items.forEach((pair, i) => {
      const key = String((pair.key as { value: unknown }).value);
      const own = Boolean(
        (pair.key as { commentBefore?: string }).commentBefore ?? (i === 0 ? map.commentBefore : undefined),
      );
      const where = [...path, key].join('.');
      const sub = schema?.properties?.[key];
      if (schema?.additionalProperties === false && !sub) out.push(`${where}: not in values.schema.json`);
      if (isMap(pair.value)) audit(pair.value, [...path, key], own || inherited, sub, out);
      else if (!own && !inherited) out.push(`${where}: no comment`);
    });
  }

  it('documents every value in values.yaml and names each in values.schema.json', () => {
    const doc = parseDocument(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
    const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as SchemaNode;
    const findings: string[] = [];
    audit(doc.contents as YAMLMap, [], false, schema, findings);
    expect(findings).toEqual([]);
  });
});

describe('values the chart refuses', () => {
  const bad: [string, object, RegExp][] = [
    ['the latest tag', { image: { tag: 'latest' } }, /image\.tag|tag/],
    ['no replicas', { replicaCount: 0 }, /replicaCount/],
    ['an unknown TLS mode', { tls: { mode: 'selfsigned' } }, /tls\.mode|mode/],
    ['a misspelt top-level value', { replicas: 3 }, /replicas/],
    ['a root container', { securityContext: { runAsNonRoot: false } }, /runAsNonRoot/],
    [
      'a writable root file system',
      { securityContext: { readOnlyRootFilesystem: false } },
      /readOnlyRootFilesystem/,
    ],
    ['an unknown log level', { logLevel: 'loud' }, /logLevel/],
    ['a duration Go would not parse', { cache: { ttl: '2 minutes' } }, /ttl/],
    ['an extra argument that is not a flag', { extraArgs: ['serve'] }, /extraArgs/],
    [
      'a key file from nowhere',
      { serviceAccountTokens: { keyFiles: [{ name: 'k', key: 'k.pem' }] } },
      /keyFiles/,
    ],
    [
      'a policy object that is not RBAC',
      { authorization: { policies: [{ apiVersion: 'v1', kind: 'Pod' }] } },
      /kind/,
    ],
    [
      'a grace period shorter than the drain',
      { terminationGracePeriodSeconds: 20 },
      /terminationGracePeriodSeconds \(20\) must exceed/,
    ],
    ['mode secret without its name', { tls: { mode: 'secret' } }, /tls\.secretName is required/],
    [
      'service-account callers without an issuer',
      {
        serviceAccountTokens: { issuers: [] },
        authorizeCallers: { serviceAccounts: [{ namespace: 'vault', name: 'vault' }] },
      },
      /serviceAccountTokens\.issuers needs their issuer/,
    ],
    [
      'a ServiceMonitor nobody may scrape for',
      { metrics: { serviceMonitor: { enabled: true } } },
      /metrics\.scrapers/,
    ],
    ['workers: auto without a CPU limit to count', { workers: 'auto' }, /set resources\.limits\.cpu/],
    ['no workers', { workers: 0 }, /workers/],
    ['TLS 1.0', { tls: { minVersion: 'VersionTLS10' } }, /minVersion/],
    [
      'a cipher suite in OpenSSL spelling',
      { tls: { cipherSuites: ['ECDHE-RSA-AES128-GCM-SHA256'] } },
      /cipherSuites/,
    ],
    [
      'delegation without live mode',
      { live: { delegateUnknownTokens: true } },
      /live\.delegateUnknownTokens and live\.delegateAuthorization ask the cluster: set live\.enabled/,
    ],
    [
      'authorization delegation without live mode',
      { live: { delegateAuthorization: true } },
      /set live\.enabled/,
    ],
    [
      'a live staleness bound Go would not parse',
      { live: { enabled: true, stalenessBound: '5' } },
      /stalenessBound/,
    ],
  ];
  it.each(bad)('refuses %s', async (_what, values, message) => {
    expect(await renderError(values)).toMatch(message);
  });
});
