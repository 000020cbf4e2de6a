// charts/tokenwarden's rendered manifests, over every values set of the chart tests, accepted by a real
// kube-apiserver: `kubectl apply --dry-run=server --validate=strict` runs admission, defaulting and schema
// validation (unknown fields included) without storing anything.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { createCertificateAuthority, issueCertificate } from '../../src/dev/certs.js';
import {
  helm,
  HELM_BUILD_TIMEOUT_MS,
  installDryRun,
  NAMESPACE,
  render,
  type K8sObject,
} from '../chart/helm.js';
import { appChart } from '../chart/app-chart.js';
import { VALUES_SETS } from '../chart/values-sets.js';
import { startCluster, type Cluster } from './harness/cluster.js';

/**
 * The chart's optional cert-manager and Prometheus Operator kinds, registered with an open schema: the apiserver
 * then checks their metadata, namespace and kind, not cert-manager's or the operator's own schemas (those
 * projects' CRDs are not vendored here).
 */
function openCrd(group: string, kind: string, plural: string): string {
  return JSON.stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          },
        },
      ],
    },
  });
}

const CRDS = [
  openCrd('cert-manager.io', 'Issuer', 'issuers'),
  openCrd('cert-manager.io', 'Certificate', 'certificates'),
  openCrd('monitoring.coreos.com', 'ServiceMonitor', 'servicemonitors'),
  openCrd('monitoring.coreos.com', 'PrometheusRule', 'prometheusrules'),
];

let cluster: Cluster;

beforeAll(async () => {
  helm();
  cluster = await startCluster({ binaries: inject('clusterBinaries') });
  await kubectlOk(['create', 'namespace', NAMESPACE]);
  for (const crd of CRDS) await kubectlOk(['apply', '-f', '-'], crd);
  for (const crd of [
    'issuers.cert-manager.io',
    'certificates.cert-manager.io',
    'servicemonitors.monitoring.coreos.com',
    'prometheusrules.monitoring.coreos.com',
  ])
    await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', `crd/${crd}`]);
}, HELM_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await cluster?.stop();
});

async function kubectlOk(args: readonly string[], input?: string): Promise<string> {
  const result = await cluster.kubectl(args, input === undefined ? {} : { input });
  expect(result.code, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

describe('the rendered chart on a real kube-apiserver', () => {
  it.each(Object.keys(VALUES_SETS))(
    'accepts every object of the %s values (server-side dry run)',
    async (set) => {
      const { text, objects } = await render(VALUES_SETS[set]!);
      const out = await kubectlOk(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], text);
      // One "created (server dry run)" line per object: nothing skipped.
      expect(out.match(/\(server dry run\)/g)?.length).toBe(objects.length);
    },
  );

  it("prints an existing Secret's CA in NOTES.txt, and keeps a generated certificate already in the cluster", async () => {
    const ca = await createCertificateAuthority('kept-ca');
    const leaf = await issueCertificate(ca, { commonName: 'tw-tokenwarden', usage: 'server' });
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    for (const name of ['tokenwarden-serving', 'tw-tokenwarden-tls'])
      await kubectlOk(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'kubernetes.io/tls',
          // The second as a previous install of the release left it (Helm adopts only its own objects).
          metadata: {
            name,
            namespace: NAMESPACE,
            ...(name === 'tw-tokenwarden-tls'
              ? {
                  labels: { 'app.kubernetes.io/managed-by': 'Helm' },
                  annotations: {
                    'meta.helm.sh/release-name': 'tw',
                    'meta.helm.sh/release-namespace': NAMESPACE,
                  },
                }
              : {}),
          },
          data: { 'ca.crt': b64(ca.cert), 'tls.crt': b64(leaf.cert), 'tls.key': b64(leaf.key) },
        }),
      );
    const existing = await installDryRun(
      { tls: { mode: 'secret', secretName: 'tokenwarden-serving' } },
      cluster.kubeconfigPath,
    );
    expect([...existing.notes.matchAll(/certificate-authority-data: (\S+)/g)].map((m) => m[1])).toEqual([
      b64(ca.cert),
      b64(ca.cert),
    ]);
    const generated = await installDryRun({}, cluster.kubeconfigPath);
    const secret = generated.objects.find((o) => o.kind === 'Secret') as K8sObject & {
      data: Record<string, string>;
    };
    expect(secret.data['tls.crt']).toBe(b64(leaf.cert));
    expect(generated.notes).toContain(`certificate-authority-data: ${b64(ca.cert)}`);
  });

  it('accepts an application Deployment with the proxy sidecar of charts/tokenwarden-sidecar (server-side dry run)', async () => {
    const chart = appChart();
    try {
      const { text, objects } = await render(
        {
          tokenwarden: {
            image: 'registry.example/tokenwarden:0.1.0',
            tlsSecret: 'app-tokenwarden-tls',
            upstream: 'http://127.0.0.1:8080',
            audiences: ['app'],
            ignorePaths: ['/healthz'],
            allowNamespaces: ['payments'],
          },
        },
        [],
        chart.dir,
      );
      const out = await kubectlOk(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], text);
      expect(out.match(/\(server dry run\)/g)?.length).toBe(objects.length);
    } finally {
      chart.remove();
    }
  });

  it('refuses a manifest the apiserver would not store (the check can fail)', async () => {
    const { text } = await render({});
    const broken = text.replace('terminationGracePeriodSeconds:', 'terminationGracePeriodSecond:');
    const result = await cluster.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], {
      input: broken,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('terminationGracePeriodSecond');
  });
});
