import { encodeTokenReview } from './api/tokenreview.js';
import type { TokenReviewStatus } from './api/types.js';
import { defaultApiAudiences } from './authn/audiences.js';
import { parseBearer } from './authn/bearer.js';
import { systemClock, type Clock } from './clock.js';
import { composeLoaded } from './compose/compose.js';
import { DEFAULT_CACHE, type JwksUrlOptions } from './compose/options.js';
import { TokenwardenError } from './errors.js';
import type { KeySource } from './keys/key-source.js';
import { reviewToken } from './review/token.js';

export interface TokenVerifierOptions {
  /** Accepted `iss` values of service-account tokens. */
  readonly issuers: readonly string[];
  /** PEM or JWKS key files, as `--service-account-key-file`; watched and reloaded. */
  readonly keyFiles?: readonly string[];
  /** Remote JWKS documents, fetched, cached and refreshed; `issuer` binds one to one issuer. */
  readonly jwksUrls?: readonly JwksUrlOptions[];
  /** Find each issuer's keys by OpenID discovery (`/.well-known/openid-configuration`). */
  readonly discovery?: boolean;
  /** Key sources per issuer, for keys held in memory (e.g. a StaticKeySource). */
  readonly issuerKeys?: ReadonlyMap<string, KeySource>;
  /** Remote key fetches may reach loopback addresses (a test issuer on 127.0.0.1). */
  readonly allowLoopback?: boolean;
  /** Implicit audiences when a review names none; default: every issuer. */
  readonly apiAudiences?: readonly string[];
  readonly legacyTokens?: 'reject' | 'accept';
  readonly cacheTtlMs?: number;
  readonly cacheSize?: number;
  readonly negativeCacheTtlMs?: number;
  readonly clock?: Clock;
}

export interface TokenVerifier {
  /** The `status` of the TokenReview kube-apiserver would answer for this token and audiences. */
  review(token: string, audiences?: readonly string[]): Promise<TokenReviewStatus>;
  /** Resolves once every remote key source has loaded (or the time is up); true when all have. */
  whenReady(timeoutMs: number): Promise<boolean>;
  close(): void;
}

/**
 * The verification core without HTTP: the same gate, keys, claims and cache as
 * `tokenwarden serve`, built from these values by the same composition root.
 *
 * @example
 * const verifier = createTokenVerifier({ issuers: ['https://kubernetes.default.svc'], keyFiles: ['/keys/sa.pub'] });
 * const status = await verifier.review(token, ['vault']);
 * const username = status.authenticated ? status.user.username : undefined;
 */
function invalid(message: string): TokenwardenError {
  return new TokenwardenError('ERR_CONFIG_INVALID', `createTokenVerifier: ${message}`);
}

/** Options are checked when the verifier is made, as kube checks its flags: a mistake never waits for a token. */
function check(options: TokenVerifierOptions): void {
  const { issuers } = options;
  if (issuers.length === 0) throw invalid('issuers: at least one issuer is required');
  if (new Set(issuers).size !== issuers.length || issuers.includes(''))
    throw invalid('issuers: must be unique and non-empty');
  const hasKeys =
    (options.keyFiles?.length ?? 0) > 0 ||
    (options.jwksUrls?.length ?? 0) > 0 ||
    options.discovery === true ||
    (options.issuerKeys?.size ?? 0) > 0;
  if (!hasKeys) throw invalid('no keys: give keyFiles, jwksUrls, discovery or issuerKeys');
  for (const u of options.jwksUrls ?? []) {
    if (!URL.canParse(u.url) || new URL(u.url).protocol !== 'https:')
      throw invalid(`jwksUrls: ${JSON.stringify(u.url)} is not an https URL`);
  }
  for (const [name, v] of [
    ['cacheTtlMs', options.cacheTtlMs],
    ['negativeCacheTtlMs', options.negativeCacheTtlMs],
  ] as const) {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0))
      throw invalid(`${name}: must be a whole number of ms`);
  }
  if (options.cacheSize !== undefined && !(Number.isSafeInteger(options.cacheSize) && options.cacheSize >= 1))
    throw invalid('cacheSize: must be at least 1');
}

/**
 * The verification core without HTTP: the same gate, keys, claims and cache as
 * `tokenwarden serve`, built from these values by the same composition root (never argv).
 * Invalid options throw a TokenwardenError (`ERR_CONFIG_INVALID`) naming the option.
 *
 * @example
 * const verifier = createTokenVerifier({ issuers: ['https://kubernetes.default.svc'], keyFiles: ['/keys/sa.pub'] });
 * const status = await verifier.review(token, ['vault']);
 * const username = status.authenticated ? status.user.username : undefined;
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  check(options);
  const apiAudiences = defaultApiAudiences(options.apiAudiences, options.issuers);
  const components = composeLoaded({
    authentication: {
      apiAudiences,
      serviceAccounts: {
        issuers: options.issuers,
        keys: {
          ...(options.keyFiles ? { keyFiles: options.keyFiles } : {}),
          ...(options.jwksUrls ? { jwksUrls: options.jwksUrls } : {}),
          ...(options.discovery ? { discovery: options.issuers.map((issuer) => ({ issuer })) } : {}),
          ...(options.issuerKeys ? { issuerKeys: options.issuerKeys } : {}),
          ...(options.allowLoopback ? { allowLoopback: true } : {}),
        },
        ...(options.legacyTokens ? { legacyTokens: options.legacyTokens } : {}),
      },
      cache: {
        ttlMs: options.cacheTtlMs ?? DEFAULT_CACHE.ttlMs,
        negativeTtlMs: options.negativeCacheTtlMs ?? DEFAULT_CACHE.negativeTtlMs,
        max: options.cacheSize ?? DEFAULT_CACHE.max,
      },
    },
    clock: options.clock ?? systemClock,
    watch: true,
  });
  const { authentication } = components;
  return {
    async review(token, audiences = []) {
      const outcome = await reviewToken(
        { authenticator: authentication.authenticator, apiAudiences },
        { token: parseBearer(`Bearer ${token}`), audiences },
      );
      return encodeTokenReview('authentication.k8s.io/v1', outcome.result, outcome.audiences).status;
    },
    whenReady: (timeoutMs) => authentication.whenReady(timeoutMs),
    close: () => components.close(),
  };
}
