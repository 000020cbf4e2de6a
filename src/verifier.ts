import { encodeTokenReview } from './api/tokenreview.js';
import type { TokenReviewStatus } from './api/types.js';
import { parseBearer } from './authn/bearer.js';
import { NO_OPINION } from './authn/authenticator.js';
import { systemClock, type Clock } from './clock.js';
import { buildTokenChain } from './config/build.js';
import { loadConfig } from './config/load.js';
import type { KeySource } from './keys/key-source.js';

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
 * `tokenwarden serve`.
 *
 * @example
 * const verifier = createTokenVerifier({ issuers: ['https://kubernetes.default.svc'], keyFiles: ['/keys/sa.pub'] });
 * const status = await verifier.review(token, ['vault']);
 * const username = status.authenticated ? status.user.username : undefined;
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const argv = [
    ...options.issuers.flatMap((i) => ['--service-account-issuer', i]),
    ...(options.keyFiles ?? []).flatMap((f) => ['--service-account-key-file', f]),
    ...(options.apiAudiences ? ['--api-audiences', options.apiAudiences.join(',')] : []),
    ...(options.legacyTokens ? ['--service-account-legacy-tokens', options.legacyTokens] : []),
  ];
  const base = loadConfig('serve', argv);
  const config = {
    ...base,
    ...(options.cacheTtlMs === undefined ? {} : { cacheTtlMs: options.cacheTtlMs }),
    ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }),
    ...(options.negativeCacheTtlMs === undefined ? {} : { negativeCacheTtlMs: options.negativeCacheTtlMs }),
  };
  const chain = buildTokenChain(config, {
    clock: options.clock ?? systemClock,
    watch: true,
    ...(options.issuerKeys ? { issuerKeys: options.issuerKeys } : {}),
  });
  return {
    async review(token, audiences = []) {
      const requested = audiences.length > 0 ? audiences : config.apiAudiences;
      const credential = parseBearer(`Bearer ${token}`);
      const result =
        credential === undefined
          ? NO_OPINION
          : await chain.authenticator.authenticateToken(credential, requested);
      return encodeTokenReview('authentication.k8s.io/v1', result, requested).status;
    },
    close: () => chain.close(),
  };
}
