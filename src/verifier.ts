import { encodeTokenReview } from './api/tokenreview.js';
import type { TokenReviewStatus } from './api/types.js';
import { defaultApiAudiences } from './authn/audiences.js';
import { parseBearer } from './authn/bearer.js';
import { systemClock, type Clock } from './clock.js';
import { buildAuthentication } from './compose/authentication.js';
import { DEFAULT_CACHE } from './compose/options.js';
import type { KeySource } from './keys/key-source.js';
import { reviewToken } from './review/token.js';

export interface TokenVerifierOptions {
  /** Accepted `iss` values of service-account tokens. */
  readonly issuers: readonly string[];
  /** PEM or JWKS key files, as `--service-account-key-file`; watched and reloaded. */
  readonly keyFiles?: readonly string[];
  /** Key sources per issuer, for keys held in memory (e.g. a StaticKeySource). */
  readonly issuerKeys?: ReadonlyMap<string, KeySource>;
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
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const apiAudiences = defaultApiAudiences(options.apiAudiences, options.issuers);
  const authentication = buildAuthentication(
    {
      apiAudiences,
      serviceAccounts: {
        issuers: options.issuers,
        keys: {
          ...(options.keyFiles ? { keyFiles: options.keyFiles } : {}),
          ...(options.issuerKeys ? { issuerKeys: options.issuerKeys } : {}),
        },
        ...(options.legacyTokens ? { legacyTokens: options.legacyTokens } : {}),
      },
      cache: {
        ttlMs: options.cacheTtlMs ?? DEFAULT_CACHE.ttlMs,
        negativeTtlMs: options.negativeCacheTtlMs ?? DEFAULT_CACHE.negativeTtlMs,
        max: options.cacheSize ?? DEFAULT_CACHE.max,
      },
    },
    { clock: options.clock ?? systemClock, watch: true },
  );
  return {
    async review(token, audiences = []) {
      const outcome = await reviewToken(
        { authenticator: authentication.authenticator, apiAudiences },
        { token: parseBearer(`Bearer ${token}`), audiences },
      );
      return encodeTokenReview('authentication.k8s.io/v1', outcome.result, outcome.audiences).status;
    },
    close: () => authentication.close(),
  };
}
