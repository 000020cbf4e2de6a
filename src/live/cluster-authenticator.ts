import type { Logger } from 'pino';
import { failure, type AuthnResult, type TokenAuthenticator } from '../authn/authenticator.js';
import { TokenwardenError } from '../errors.js';
import type { ClusterReviews } from './cluster-reviews.js';

/**
 * How long the cluster's answers are kept: k8s.io/apiserver's delegated authentication
 * (`DelegatingAuthenticationOptions.CacheTTL`, 10 s) wraps its TokenReview client in
 * `cache.New(tokenAuth, false, CacheTTL, CacheTTL)`: successes and clean rejections 10 s
 * each, answers with an error never. These are the defaults of a server that delegates to the
 * cluster, which tokenwarden here is; kube-apiserver's own token webhook keeps 2 m, a cache
 * for a webhook it trusts, not for the cluster it defers to.
 */
export const DELEGATED_TOKEN_TTL_MS = 10_000;

export interface ClusterAuthenticatorOptions {
  /** tokenwarden's API audiences: what the cluster is taken to have checked when its answer names none. */
  readonly implicitAudiences: readonly string[];
  readonly logger?: Logger;
}

/**
 * kube's webhook token authenticator (`AS/plugin/pkg/authenticator/token/webhook/webhook.go`)
 * with the cluster's TokenReview API as the webhook. The requested audiences are sent as
 * `spec.audiences`; when there are any, the answer counts only for
 * `requested ∩ (status.audiences, or the implicit audiences when it names none)`, and an
 * empty intersection is a clean rejection, checked before `authenticated` is read. The user
 * is taken verbatim (the group adder adds `system:authenticated` after). A cluster that gives
 * no answer is a transient error: never cached, never an acceptance.
 */
export function clusterTokenAuthenticator(
  cluster: ClusterReviews,
  options: ClusterAuthenticatorOptions,
): TokenAuthenticator {
  return {
    async authenticateToken(token, audiences): Promise<AuthnResult> {
      let status;
      try {
        status = await cluster.tokenReview({
          token,
          ...(audiences.length > 0 ? { audiences: [...audiences] } : {}),
        });
      } catch (err) {
        const error =
          err instanceof TokenwardenError
            ? err
            : new TokenwardenError('ERR_CLUSTER_UNAVAILABLE', 'TokenReview to the cluster failed', {
                cause: err,
              });
        options.logger?.warn({ code: error.code, reason: error.message }, 'delegated TokenReview failed');
        return failure(error);
      }
      let granted: readonly string[] = [];
      if (audiences.length > 0) {
        const answered =
          status.audiences && status.audiences.length > 0 ? status.audiences : options.implicitAudiences;
        granted = audiences.filter((a) => answered.includes(a));
        if (granted.length === 0) return { outcome: 'no-opinion', ttlMs: DELEGATED_TOKEN_TTL_MS };
      }
      if (status.authenticated !== true) {
        // kube caches a rejection without an error and re-asks one with an error every time.
        return status.error
          ? failure(new TokenwardenError('ERR_TOKEN_INVALID', status.error), 0)
          : { outcome: 'no-opinion', ttlMs: DELEGATED_TOKEN_TTL_MS };
      }
      const u = status.user ?? {};
      return {
        outcome: 'authenticated',
        user: {
          username: u.username ?? '',
          ...(u.uid !== undefined ? { uid: u.uid } : {}),
          groups: u.groups ?? [],
          ...(u.extra !== undefined ? { extra: u.extra } : {}),
        },
        audiences: granted,
        ttlMs: DELEGATED_TOKEN_TTL_MS,
      };
    },
  } satisfies TokenAuthenticator;
}
