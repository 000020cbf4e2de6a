import type { HealthCheck } from '../http/ops.js';
import { Metrics } from '../observe/metrics.js';
import { buildAuthentication, type Authentication } from './authentication.js';
import { buildAuthorization, type Authorization } from './authorization.js';
import { policyCheck } from './health.js';
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

/**
 * The composition root (Options → Complete → Run, as kube-rbac-proxy's `app/` and
 * kube-apiserver's options → Config → New): the CLI turns flags and `--config` into
 * ComponentOptions, and every command, the library and the tests build through here. A
 * new part (live mode's sources, the proxy) attaches here, never inside a command.
 */
export async function compose<O extends ComponentOptions>(options: O): Promise<ComposedFrom<O>>;
export async function compose(options: ComponentOptions): Promise<Components> {
  const deps = {
    clock: options.clock,
    watch: options.watch,
    ...(options.logger ? { logger: options.logger } : {}),
  };
  const authentication = options.authentication
    ? buildAuthentication(options.authentication, deps)
    : undefined;
  let authorization: Authorization;
  try {
    authorization = await buildAuthorization(options.authorization, deps);
  } catch (err) {
    authentication?.close();
    throw err;
  }
  const health = authorization.policy?.health;
  let metrics: Metrics | undefined;
  return {
    ...(authentication ? { authentication } : {}),
    authorization,
    get metrics() {
      metrics ??= new Metrics({
        ...(authentication
          ? {
              cacheStats: () => authentication.authenticator.stats(),
              keySources: authentication.keySourceHealth,
            }
          : {}),
        ...(health ? { policy: health } : {}),
        ...(authentication?.authenticationConfigReloads
          ? { authenticationConfig: authentication.authenticationConfigReloads }
          : {}),
      });
      return metrics;
    },
    readiness: () => [...(authentication?.readiness() ?? []), ...(health ? [policyCheck(health())] : [])],
    whenReady: (timeoutMs) => authentication?.whenReady(timeoutMs) ?? Promise.resolve(true),
    close() {
      authentication?.close();
      authorization.close();
    },
  };
}
