import type { ListenOptions } from '../compose/run.js';
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
  };
}

/** `--authorization-policy-file`s → the authorization options; none, no RBAC. */
export function authorizationOptions(config: ResolvedConfig): AuthorizationOptions | undefined {
  return config.authorizationPolicyFiles.length > 0
    ? { policyFiles: config.authorizationPolicyFiles }
    : undefined;
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
    maxRequestBytes: config.maxRequestBytes,
    authorizeCallers: config.authorizeCallers,
    shutdownDelayMs: config.shutdownDelayMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
  };
}
