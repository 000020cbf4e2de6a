import type { HealthCheck } from '../http/ops.js';
import { Metrics } from '../observe/metrics.js';
import { buildAuthentication, type Authentication } from './authentication.js';
import {
  buildAuthorization,
  loadAuthorizationOptions,
  type Authorization,
  type LoadedAuthorizationOptions,
} from './authorization.js';
import { policyCheck } from './health.js';
import { loadLiveParts } from './live-parts.js';
import { loadOidcParts } from './oidc-parts.js';
import type { AuthenticationOptions, ComponentOptions } from './options.js';

/** Everything a command, the library or a test serves from, built once from typed options. */
export interface Components {
  /** Absent when no authentication options were given (`can-i`, `who-can`). */
  readonly authentication?: Authentication;
  readonly authorization: Authorization;
  /** One Prometheus registry reading the parts above at scrape time; made on first use. */
  readonly metrics: Metrics;
  /** What gates /readyz: key sources and the policy. */
  readonly readiness: () => HealthCheck[];
  /** Resolves once every remote key source has loaded (or the time is up); true when all have. */
  whenReady(timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** Components whose `authentication` is known present when its options were given. */
export type ComposedFrom<O extends ComponentOptions> = O extends { authentication: AuthenticationOptions }
  ? Components & { readonly authentication: Authentication }
  : Components;

/** ComponentOptions with every file already read: what the synchronous composition takes. */
export type LoadedComponentOptions = Omit<ComponentOptions, 'authorization'> & {
  readonly authorization?: LoadedAuthorizationOptions;
};

/**
 * The composition root (Options → Complete → Run, as kube-rbac-proxy's `app/` and
 * kube-apiserver's options → Config → New): the CLI turns flags and `--config` into
 * ComponentOptions, and every command, the library and the tests build through here. A
 * new part (live mode's sources, the proxy) attaches in composeLoaded, never inside a command.
 * This reads the policy files, the one step that waits on I/O, then composes.
 */
export async function compose<O extends ComponentOptions>(options: O): Promise<ComposedFrom<O>>;
export async function compose(options: ComponentOptions): Promise<Components> {
  const { authorization: files, ...rest } = options;
  if (options.authentication?.live) await loadLiveParts();
  if (options.authentication?.authenticationConfigFile !== undefined) await loadOidcParts();
  const authorization = await loadAuthorizationOptions(files, options);
  try {
    return composeLoaded({ ...rest, ...(authorization ? { authorization } : {}) });
  } catch (err) {
    // The source was opened here from file names, so it is closed here.
    if (authorization !== files && authorization && 'source' in authorization) authorization.source.close();
    throw err;
  }
}

/**
 * The same composition, synchronous, for options that need nothing read first (a policy
 * already loaded or a PolicySource): what the library's constructor uses, so a bad key file
 * throws when the verifier is made, not at its first token.
 */
export function composeLoaded<O extends LoadedComponentOptions>(options: O): ComposedFrom<O>;
export function composeLoaded(options: LoadedComponentOptions): Components {
  const deps = {
    clock: options.clock,
    watch: options.watch,
    ...(options.logger ? { logger: options.logger } : {}),
  };
  const authentication = options.authentication
    ? buildAuthentication(options.authentication, deps)
    : undefined;
  const authorization = buildAuthorization(options.authorization);
  const health = authorization.policy?.health;
  let metrics: Metrics | undefined;
  return {
    ...(authentication ? { authentication } : {}),
    authorization,
    get metrics() {
      metrics ??= new Metrics({
        gcDurationMetric: options.gcDurationMetric === true,
        ...(authentication
          ? {
              cacheStats: () => authentication.authenticator.stats(),
              keySources: authentication.keySourceHealth,
            }
          : {}),
        ...(health ? { policy: health } : {}),
        ...(authentication?.clusterWatches || authorization.clusterWatches
          ? {
              liveWatches: () =>
                new Map([
                  ...(authentication?.clusterWatches?.() ?? []),
                  ...(authorization.clusterWatches?.() ?? []),
                ]),
              now: () => options.clock.now(),
            }
          : {}),
        ...(authentication?.authenticationConfigReloads
          ? { authenticationConfig: authentication.authenticationConfigReloads }
          : {}),
      });
      return metrics;
    },
    readiness: () => [
      ...(authentication?.readiness() ?? []),
      ...(health ? [policyCheck(health())] : []),
      ...(authorization.readiness?.(options.clock.now()) ?? []),
    ],
    whenReady: (timeoutMs) => authentication?.whenReady(timeoutMs) ?? Promise.resolve(true),
    close() {
      authentication?.close();
      authorization.close();
    },
  };
}
