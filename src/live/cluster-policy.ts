import {
  RbacAuthorizationV1Api,
  Watch,
  type KubeConfig,
  type KubernetesObject,
  type ListPromise,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Attributes, AuthzResult } from '../authz/authorizer.js';
import { compilePolicies, type CompiledPolicy } from '../authz/rbac/compile.js';
import type { FilePolicySource } from '../authz/rbac/file-source.js';
import { policyFromObjects } from '../authz/rbac/policy.js';
import type { PolicyHealth, PolicySource, ReloadEvent } from '../authz/rbac/policy-source.js';
import { RbacAuthorizer } from '../authz/rbac/rbac.js';
import type { Policy } from '../authz/rbac/types.js';
import { WatchCache, type WatchCacheHealth, type WatchCacheOptions, type WatchSet } from './watch-cache.js';

/** `listed` resolves once the first policy built from every RBAC kind is serving. */
export interface ClusterPolicySource extends PolicySource, WatchSet {
  watchHealth(): ReadonlyMap<string, WatchCacheHealth>;
}

export interface ClusterPolicyOptions extends Omit<WatchCacheOptions, 'onChange'> {
  readonly logger: Logger;
  /** Policy files served beside the cluster's RBAC: a binding in either grants. */
  readonly files?: FilePolicySource;
  /** How long a burst of watch events is gathered before one rebuild (default 100 ms). */
  readonly settleMs?: number;
}

const KINDS = ['ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding'] as const;
type Kind = (typeof KINDS)[number];
const RESOURCE: Readonly<Record<Kind, string>> = {
  ClusterRole: 'clusterroles',
  Role: 'roles',
  ClusterRoleBinding: 'clusterrolebindings',
  RoleBinding: 'rolebindings',
};

const EMPTY: Policy = { roles: [], clusterRoles: [], roleBindings: [], clusterRoleBindings: [], notes: [] };

/**
 * The cluster's RBAC as a PolicySource: Roles, ClusterRoles, RoleBindings and
 * ClusterRoleBindings kept by list-then-watch, rebuilt into one compiled policy (with
 * aggregation, as kube's controller writes it) shortly after any of them changes, and
 * merged with `files` when given. Until every kind has listed, nothing is granted and the
 * source is not ready: an empty policy only ever says "no opinion".
 */
export function watchClusterPolicy(kc: KubeConfig, options: ClusterPolicyOptions): ClusterPolicySource {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const watch = new Watch(kc);
  const log = options.logger.child({ component: 'cluster-rbac' });
  const base = '/apis/rbac.authorization.k8s.io/v1';
  let timer: NodeJS.Timeout | undefined;
  const changed = (): void => {
    if (closed || timer || !allSynced()) return;
    timer = setTimeout(() => {
      timer = undefined;
      rebuild();
    }, options.settleMs ?? 100);
    timer.unref();
  };
  const cache = (kind: Kind, list: () => Promise<unknown>): WatchCache<KubernetesObject> =>
    new WatchCache(watch, `${base}/${RESOURCE[kind]}`, list as ListPromise<KubernetesObject>, {
      ...options,
      onChange: changed,
    });
  const caches: Record<Kind, WatchCache<KubernetesObject>> = {
    ClusterRole: cache('ClusterRole', () => rbac.listClusterRole()),
    Role: cache('Role', () => rbac.listRoleForAllNamespaces()),
    ClusterRoleBinding: cache('ClusterRoleBinding', () => rbac.listClusterRoleBinding()),
    RoleBinding: cache('RoleBinding', () => rbac.listRoleBindingForAllNamespaces()),
  };
  const allSynced = (): boolean => KINDS.every((k) => caches[k].synced());

  let cluster: Policy = EMPTY;
  let compiled: CompiledPolicy = compilePolicies([EMPTY]);
  let authorizer = new RbacAuthorizer(compiled);
  let lastSuccess = new Date(options.now());
  let reloads = 0;
  let closed = false;
  const listeners = new Set<(event: ReloadEvent) => void>();

  const serve = (notes: readonly string[]): void => {
    const files = options.files?.policy();
    compiled = compilePolicies(files ? [cluster, files] : [cluster]);
    authorizer = new RbacAuthorizer(compiled);
    lastSuccess = new Date(options.now());
    reloads++;
    const event: ReloadEvent = {
      outcome: 'success',
      ruleCount: compiled.ruleCount,
      bindingCount: compiled.bindingCount,
      notes,
    };
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (err) {
        log.error({ err }, 'policy reload listener failed');
      }
    }
  };
  const rebuild = (): void => {
    if (closed) return;
    const objects = KINDS.flatMap((kind) => caches[kind].list().map((object) => ({ kind, object })));
    cluster = policyFromObjects(objects, 'cluster');
    for (const note of cluster.notes) log.info({ note }, 'cluster RBAC note');
    serve(cluster.notes);
    log.debug({ rules: compiled.ruleCount, bindings: compiled.bindingCount }, 'cluster RBAC rebuilt');
  };
  const unsubscribeFiles = options.files?.onReload((event) => {
    if (event.outcome === 'success' && allSynced()) serve(event.notes);
  });

  let markListed!: () => void;
  const listed = new Promise<void>((resolve) => (markListed = resolve));
  void Promise.all(KINDS.map((k) => caches[k].listed)).then(() => {
    if (closed) return;
    rebuild();
    log.info({ rules: compiled.ruleCount, bindings: compiled.bindingCount }, 'cluster RBAC loaded');
    markListed();
  });

  return {
    authorizer: {
      authorize(attributes: Attributes): AuthzResult {
        return authorizer.authorize(attributes);
      },
    },
    current: () => compiled,
    health(): PolicyHealth {
      const fileHealth = options.files?.health();
      return {
        ready: allSynced() && reloads > 0,
        lastError: fileHealth?.lastError,
        lastErrorAt: fileHealth?.lastErrorAt,
        lastSuccess,
        ruleCount: compiled.ruleCount,
        bindingCount: compiled.bindingCount,
        failures: fileHealth?.failures ?? 0,
        reloads,
      };
    },
    onReload(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    listed,
    async start() {
      await Promise.all(KINDS.map((k) => caches[k].start()));
    },
    watchHealth: () => new Map(KINDS.map((k) => [RESOURCE[k], caches[k].health()])),
    close() {
      closed = true;
      clearTimeout(timer);
      unsubscribeFiles?.();
      options.files?.close();
      listeners.clear();
      for (const k of KINDS) caches[k].close();
    },
  };
}
