// Kubernetes objects for `kubectl apply -f -`, built as data and printed as one multi-document YAML stream.
import { stringify } from 'yaml';

export type Manifest = Record<string, unknown>;

export const manifestStream = (objects: readonly Manifest[]): string =>
  objects.map((o) => stringify(o)).join('---\n');

export const namespace = (name: string): Manifest => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name },
});

export const serviceAccount = (name: string, ns: string): Manifest => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name, namespace: ns },
});

export const node = (name: string): Manifest => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });

export const opaqueSecret = (name: string, ns: string): Manifest => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: ns },
  stringData: { k: 'v' },
});

/** A Secret the token controller fills with a legacy token of `serviceAccountName`. */
export const serviceAccountTokenSecret = (
  name: string,
  ns: string,
  serviceAccountName: string,
): Manifest => ({
  apiVersion: 'v1',
  kind: 'Secret',
  type: 'kubernetes.io/service-account-token',
  metadata: {
    name,
    namespace: ns,
    annotations: { 'kubernetes.io/service-account.name': serviceAccountName },
  },
});

/**
 * A Pod already scheduled to `nodeName`. No kubelet runs in the e2e cluster: the object alone is what
 * `kubectl create token --bound-object-kind Pod` needs. Its service account must exist first (admission checks).
 */
export const scheduledPod = (
  name: string,
  ns: string,
  serviceAccountName: string,
  nodeName: string,
): Manifest => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns },
  spec: { serviceAccountName, nodeName, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
});
