import type { Logger } from 'pino';
import type { CompiledPolicy } from '../authz/rbac/compile.js';
import type { PolicySource } from '../authz/rbac/policy-source.js';
import type { Clock } from '../clock.js';
import type { KeySource } from '../keys/key-source.js';

/** A remote JWKS document (`--service-account-jwks-uri`). */
export interface JwksUrlOptions {
  readonly url: string;
  /** The service-account issuer it serves; unset, it serves every issuer. */
  readonly issuer?: string;
  /** PEM bundle trusted for the fetch instead of the system roots. */
  readonly ca?: string;
  /** A file holding the bearer token sent with the fetch, re-read on each one. */
  readonly bearerTokenFile?: string;
}

/** OpenID discovery for one issuer (`--service-account-issuer-discovery`). */
export interface DiscoveryOptions {
  readonly issuer: string;
  readonly ca?: string;
  readonly bearerTokenFile?: string;
}

/** Where service-account keys come from; every kind may be combined. */
export interface KeySourceOptions {
  /** PEM or JWKS files verifying every service-account issuer, as `--service-account-key-file`. */
  readonly keyFiles?: readonly string[];
  readonly jwksUrls?: readonly JwksUrlOptions[];
  readonly discovery?: readonly DiscoveryOptions[];
  /** Keys per issuer held elsewhere (in memory, the dev issuer); an issuer named here uses only these. */
  readonly issuerKeys?: ReadonlyMap<string, KeySource>;
  /** Remote key fetches may reach loopback addresses that names resolve to. */
  readonly allowLoopback?: boolean;
}

export interface ServiceAccountOptions {
  /** Accepted `iss` values, as `--service-account-issuer`. */
  readonly issuers: readonly string[];
  readonly keys: KeySourceOptions;
  readonly legacyTokens?: 'reject' | 'accept';
}

export interface CacheOptions {
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  readonly max: number;
}

/** kube's front-proxy settings (`--requestheader-*`). */
export interface FrontProxyOptions {
  readonly clientCaFile: string;
  readonly allowedNames: readonly string[];
  readonly usernameHeaders: readonly string[];
  readonly uidHeaders: readonly string[];
  readonly groupHeaders: readonly string[];
  readonly extraHeaderPrefixes: readonly string[];
}

export interface AuthenticationOptions {
  /** Audiences checked when a review names none; kube's default is every issuer. */
  readonly apiAudiences: readonly string[];
  readonly serviceAccounts: ServiceAccountOptions;
  /** An AuthenticationConfiguration file (`jwt[]` issuers), reloaded when it changes. */
  readonly authenticationConfigFile?: string;
  /** A static token file (`--token-auth-file`). */
  readonly tokenAuthFile?: string;
  /** Client certificates verified against this bundle are users (`--client-ca-file`). */
  readonly clientCaFile?: string;
  readonly requestHeader?: FrontProxyOptions;
  readonly cache: CacheOptions;
  /** Live mode: the cluster whose objects bound and legacy tokens are checked against. */
  readonly live?: LiveOptions;
}

export interface LiveOptions {
  /** The kubeconfig file; absent, the in-cluster config of the pod. */
  readonly kubeconfigFile?: string;
  /** Readiness fails once a broken watch has served its last known state this long. */
  readonly stalenessBoundMs: number;
  /** Backoff of a failed list or broken watch (defaults 500 ms doubling to 30 s). */
  readonly backoff?: { readonly minMs: number; readonly maxMs: number };
  /** `--delegate-unknown-tokens`: a token no local authenticator claims goes to the cluster's TokenReview API. */
  readonly delegateUnknownTokens?: boolean;
  /** `--delegate-authorization`: what the local policy has no opinion on goes to the cluster's SubjectAccessReview API. */
  readonly delegateAuthorization?: boolean;
  /** Deadline of each delegated call; kube's 10 s by default. */
  readonly delegationTimeoutMs?: number;
}

/**
 * The RBAC policy: files watched and reloaded, one already loaded, or any PolicySource
 * (live mode's watched cluster objects), which compose() then owns and closes.
 */
export type AuthorizationOptions =
  | { readonly policyFiles: readonly string[] }
  | { readonly policy: CompiledPolicy }
  | { readonly source: PolicySource }
  /** Live mode: the cluster's watched RBAC, merged with `policyFiles` when given (a binding in either grants). */
  | { readonly cluster: LiveOptions; readonly policyFiles?: readonly string[] };

export interface ComponentOptions {
  /** Absent for commands that only authorize (`can-i`, `who-can`). */
  readonly authentication?: AuthenticationOptions;
  /** Absent: only `system:masters` is allowed anything. */
  readonly authorization?: AuthorizationOptions;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Watch files and reload them on change (off for one-shot commands). */
  readonly watch: boolean;
  /** `--gc-duration-metric`: prom-client's GC-duration histogram on /metrics. */
  readonly gcDurationMetric?: boolean;
}

/** The CLI's defaults (`--cache-ttl 2m`, `--negative-cache-ttl 10s`, `--cache-size 10000`), for the library. */
export const DEFAULT_CACHE: CacheOptions = Object.freeze({
  ttlMs: 120_000,
  negativeTtlMs: 10_000,
  max: 10_000,
});
