// charts/tokenwarden's rendered manifests, over every values set of the chart tests, accepted by a real
// kube-apiserver: `kubectl apply --dry-run=server --validate=strict` runs admission, defaulting and schema
// validation (unknown fields included) without storing anything.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { helm, HELM_BUILD_TIMEOUT_MS, NAMESPACE, render } from '../chart/helm.js';
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
