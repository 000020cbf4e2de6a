import {
  CoreV1Api,
  Watch,
  type KubeConfig,
  type KubernetesObject,
  type V1Node,
  type V1Pod,
  type V1Secret,
  type V1ServiceAccount,
} from '@kubernetes/client-node';
import {
  objectKey,
  type ClusterObjects,
  type LiveObject,
  type LiveSecret,
} from '../authn/serviceaccount/bound-objects.js';
import { WatchCache, type WatchCacheHealth, type WatchCacheOptions, type WatchSet } from './watch-cache.js';

export interface ClusterObjectCaches extends ClusterObjects, WatchSet {
  health(): ReadonlyMap<string, WatchCacheHealth>;
}

function live(obj: KubernetesObject): LiveObject {
  const ts = obj.metadata?.deletionTimestamp;
  return {
    uid: obj.metadata?.uid ?? '',
    ...(ts === undefined ? {} : { deletionTimestampMs: new Date(ts).getTime() }),
  };
}

/** The object's key in the result cache's dependency index (see objectKey). */
function keyOf(resource: 'serviceaccounts' | 'secrets' | 'pods' | 'nodes', obj: KubernetesObject): string {
  return objectKey(resource, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
}

/**
 * Watch-fed caches of the objects kube's service-account validators look up: service
 * accounts, secrets, pods and nodes across all namespaces. `onChange` receives the
 * dependency key of every object added, changed or deleted, so cached reviews that relied
 * on it are dropped.
 */
export function watchClusterObjects(
  kc: KubeConfig,
  options: Omit<WatchCacheOptions, 'onChange'> & { readonly onChange: (key: string) => void },
): ClusterObjectCaches {
  const core = kc.makeApiClient(CoreV1Api);
  const watch = new Watch(kc);
  const opts = (resource: 'serviceaccounts' | 'secrets' | 'pods' | 'nodes'): WatchCacheOptions => ({
    ...options,
    onChange: (obj) => options.onChange(keyOf(resource, obj)),
  });
  const serviceAccounts = new WatchCache<V1ServiceAccount>(
    watch,
    '/api/v1/serviceaccounts',
    () => core.listServiceAccountForAllNamespaces(),
    opts('serviceaccounts'),
  );
  const secrets = new WatchCache<V1Secret>(
    watch,
    '/api/v1/secrets',
    () => core.listSecretForAllNamespaces(),
    opts('secrets'),
  );
  const pods = new WatchCache<V1Pod>(
    watch,
    '/api/v1/pods',
    () => core.listPodForAllNamespaces(),
    opts('pods'),
  );
  const nodes = new WatchCache<V1Node>(watch, '/api/v1/nodes', () => core.listNode(), opts('nodes'));
  const all = { serviceaccounts: serviceAccounts, secrets, pods, nodes } as const;

  return {
    synced: () => Object.values(all).every((c) => c.synced()),
    serviceAccount(namespace, name) {
      const o = serviceAccounts.get(namespace, name);
      return o && live(o);
    },
    secret(namespace, name): LiveSecret | undefined {
      const o = secrets.get(namespace, name);
      if (!o) return undefined;
      const token = o.data?.token;
      return {
        ...live(o),
        labels: o.metadata?.labels ?? {},
        ...(token === undefined ? {} : { token: Buffer.from(token, 'base64') }),
      };
    },
    pod(namespace, name) {
      const o = pods.get(namespace, name);
      return o && live(o);
    },
    node(name) {
      const o = nodes.get('', name);
      return o && live(o);
    },
    listed: Promise.all(Object.values(all).map((c) => c.listed)).then(() => {}),
    async start() {
      await Promise.all(Object.values(all).map((c) => c.start()));
    },
    health: () => new Map(Object.entries(all).map(([k, c]) => [k, c.health()])),
    close() {
      for (const c of Object.values(all)) c.close();
    },
  };
}
