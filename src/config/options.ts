import type { ListenOptions } from '../compose/run.js';
import type { ProxyServiceOptions } from '../compose/run-proxy.js';
import type { SidecarOptions } from '../compose/sidecar.js';
import { targetAudiences } from '../authn/audiences.js';
import { TokenwardenError } from '../errors.js';
import { parseUpstream } from '../http/upstream-target.js';
import { createAllowList } from '../proxy/allow-list.js';
import { createAttributesGetter, createStaticAuthorizer } from '../proxy/authorization.js';
import { createPathMatcher } from '../proxy/paths.js';
import { loadRbacProxyConfig } from '../proxy/rbac-proxy-config.js';
import type { KeySource } from '../keys/key-source.js';
import { readSetting } from '../io/watched-file.js';
import type {
  AuthenticationOptions,
  AuthorizationOptions,
  DiscoveryOptions,
  JwksUrlOptions,
} from '../compose/options.js';
import type { IssuerBound, ResolvedConfig } from './load.js';

function pickFor(bound: readonly IssuerBound[], issuer: string): string | undefined {
  return (bound.find((b) => b.issuer === issuer) ?? bound.find((b) => b.issuer === undefined))?.value;
}

/** The CA bundle and bearer-token file bound to `issuer` (`ISSUER=FILE`) or to every issuer. */
function fetchSettings(config: ResolvedConfig, issuer: string): { ca?: string; bearerTokenFile?: string } {
  const caFile = pickFor(config.serviceAccountJwksCaFiles, issuer);
  const tokenFile = pickFor(config.serviceAccountJwksTokenFiles, issuer);
  return {
    ...(caFile === undefined ? {} : { ca: readSetting(caFile, '--service-account-jwks-ca-file') }),
    ...(tokenFile === undefined ? {} : { bearerTokenFile: tokenFile }),
  };
}

/**
 * Flags and `--config` (already checked into ResolvedConfig) → the authentication options.
 * A JWKS URL not bound to an issuer takes the CA and token file of the first issuer.
 * `issuerKeys` are keys the command holds itself (the dev issuer's).
 */
export function authenticationOptions(
  config: ResolvedConfig,
  issuerKeys?: ReadonlyMap<string, KeySource>,
): AuthenticationOptions {
  const jwksUrls: JwksUrlOptions[] = config.serviceAccountJwksUris.map((u) => ({
    url: u.value,
    ...(u.issuer === undefined ? {} : { issuer: u.issuer }),
    ...fetchSettings(config, u.issuer ?? config.serviceAccountIssuers[0] ?? ''),
  }));
  const discovery: DiscoveryOptions[] = config.serviceAccountIssuerDiscovery
    ? config.serviceAccountIssuers.map((issuer) => ({ issuer, ...fetchSettings(config, issuer) }))
    : [];
  return {
    apiAudiences: config.apiAudiences,
    serviceAccounts: {
      issuers: config.serviceAccountIssuers,
      keys: {
        keyFiles: config.serviceAccountKeyFiles,
        jwksUrls,
        discovery,
        ...(issuerKeys ? { issuerKeys } : {}),
        allowLoopback: config.allowLoopbackKeySources,
      },
      legacyTokens: config.legacyTokens,
    },
    ...(config.authenticationConfigFile === undefined
      ? {}
      : { authenticationConfigFile: config.authenticationConfigFile }),
    ...(config.tokenAuthFile === undefined ? {} : { tokenAuthFile: config.tokenAuthFile }),
    ...(config.clientCaFile === undefined ? {} : { clientCaFile: config.clientCaFile }),
    ...(config.requestHeader ? { requestHeader: config.requestHeader } : {}),
    cache: { ttlMs: config.cacheTtlMs, negativeTtlMs: config.negativeCacheTtlMs, max: config.cacheSize },
    ...(config.live ? { live: config.live } : {}),
  };
}

/**
 * `--rbac-policy-file`s → the authorization options; none, no RBAC. In live mode the
 * cluster's RBAC is the policy, with the files (if any) beside it.
 */
export function authorizationOptions(config: ResolvedConfig): AuthorizationOptions | undefined {
  const files = config.rbacPolicyFiles;
  if (config.live) return { cluster: config.live, ...(files.length > 0 ? { policyFiles: files } : {}) };
  return files.length > 0 ? { policyFiles: files } : undefined;
}

/** Where and how `serve` and `dev` listen. */
export function listenOptions(config: ResolvedConfig): ListenOptions {
  // The server must ask for a certificate when either CA is set; authenticators verify against their own bundle.
  const clientCaFile = config.clientCaFile ?? config.requestHeader?.clientCaFile;
  return {
    host: config.bindAddress,
    port: config.securePort,
    ...(config.tlsCertFile && config.tlsPrivateKeyFile
      ? {
          tlsFiles: {
            certFile: config.tlsCertFile,
            keyFile: config.tlsPrivateKeyFile,
            ...(clientCaFile === undefined ? {} : { clientCaFile }),
          },
        }
      : {}),
    tlsPolicy: config.tlsPolicy,
    maxRequestBytes: config.maxRequestBytes,
    authorizeCallers: config.authorizeCallers,
    shutdownDelayMs: config.shutdownDelayMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
  };
}

function checked<T>(flag: string, build: () => T): T {
  try {
    return build();
  } catch (err) {
    throw new TokenwardenError(
      'ERR_CONFIG_INVALID',
      `--${flag}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/**
 * The sidecar gate's options (`proxy`, `serve --check-endpoint`). Requests are authorized one
 * by one when a policy or kube-rbac-proxy's `--config-file` is given. Entries are checked
 * here, so a typo stops the start with exit 2 naming the flag.
 */
export function sidecarOptions(config: ResolvedConfig): SidecarOptions {
  const p = config.proxy;
  const allow = {
    serviceAccounts: p.allowServiceAccounts,
    namespaces: p.allowNamespaces,
    groups: p.allowGroups,
  };
  checked('allow-service-account', () => createAllowList({ serviceAccounts: allow.serviceAccounts }));
  checked('allow-namespace', () => createAllowList({ namespaces: allow.namespaces }));
  checked('ignore-path', () => createPathMatcher(p.ignorePaths));
  const rbacProxy = p.rbacProxyConfigFile ? loadRbacProxyConfig(p.rbacProxyConfigFile) : undefined;
  if (rbacProxy)
    checked(
      'config-file',
      () => createAttributesGetter(rbacProxy) && createStaticAuthorizer(rbacProxy.static),
    );
  return {
    ignorePaths: p.ignorePaths,
    allow,
    ...(rbacProxy ? { rbacProxy } : {}),
    authorizeRequests:
      rbacProxy !== undefined || config.rbacPolicyFiles.length > 0 || config.live !== undefined,
    decisionCacheSize: config.cacheSize,
  };
}

/** `tokenwarden proxy`: the token must hold one of `--audience` (default the API audiences). */
export function proxyServiceOptions(config: ResolvedConfig): Omit<ProxyServiceOptions, 'logger'> {
  const p = config.proxy;
  if (p.upstream === undefined)
    throw new TokenwardenError('ERR_CONFIG_INVALID', '--upstream is a required flag');
  const url = p.upstream;
  checked('upstream', () => parseUpstream(url));
  const authentication = authenticationOptions(config);
  const authorization = authorizationOptions(config);
  const listen = listenOptions(config);
  return {
    authentication: {
      ...authentication,
      apiAudiences: targetAudiences(config.audiences, authentication.apiAudiences),
    },
    ...(authorization ? { authorization } : {}),
    sidecar: sidecarOptions(config),
    upstream: {
      url,
      ...(p.upstreamCaFile ? { ca: readSetting(p.upstreamCaFile, '--upstream-ca-file') } : {}),
    },
    passAuthorization: p.passAuthorization,
    checkEndpoint: p.checkEndpoint,
    listen,
    ...(p.endpointsPort === undefined ? {} : { endpointsPort: p.endpointsPort }),
    gcDurationMetric: config.gcDurationMetric,
  };
}
