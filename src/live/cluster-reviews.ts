import {
  ApiException,
  AuthenticationV1Api,
  AuthorizationV1Api,
  Observable,
  type ConfigurationOptions,
  type KubeConfig,
  type V1SubjectAccessReviewSpec,
  type V1SubjectAccessReviewStatus,
  type V1TokenReviewSpec,
  type V1TokenReviewStatus,
} from '@kubernetes/client-node';
import { TokenwardenError } from '../errors.js';

/**
 * k8s.io/apiserver's delegated authentication and authorization clients give up after 10 s
 * (`DelegatingAuthenticationOptions.TokenRequestTimeout`, `DelegatingAuthorizationOptions.ClientTimeout`).
 */
export const DELEGATION_TIMEOUT_MS = 10_000;

/** The cluster's own review APIs, asked with live mode's kubeconfig or in-cluster config. */
export interface ClusterReviews {
  /** The cluster's `status`; throws ERR_CLUSTER_UNAVAILABLE when it gave none. */
  tokenReview(spec: V1TokenReviewSpec): Promise<V1TokenReviewStatus>;
  subjectAccessReview(spec: V1SubjectAccessReviewSpec): Promise<V1SubjectAccessReviewStatus>;
}

/**
 * Why a call gave no answer, in words that never hold the request: an HTTP status, a
 * timeout or a socket error code. A response body is not quoted (it could echo the token).
 */
function unavailable(what: string, err: unknown, timeoutMs: number, timedOut: boolean): TokenwardenError {
  let why: string;
  if (timedOut) why = `no answer within ${timeoutMs} ms`;
  else if (err instanceof ApiException) why = `the server answered HTTP ${err.code}`;
  else {
    const code = (err as { code?: unknown } | undefined)?.code;
    why = typeof code === 'string' ? `the request failed (${code})` : 'the request failed';
  }
  return new TokenwardenError('ERR_CLUSTER_UNAVAILABLE', `${what} to the cluster failed: ${why}`, {
    cause: err,
  });
}

export function clusterReviews(kc: KubeConfig, timeoutMs = DELEGATION_TIMEOUT_MS): ClusterReviews {
  const authn = kc.makeApiClient(AuthenticationV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  /** One call with its own deadline; any failure, or an answer of the wrong kind, is ERR_CLUSTER_UNAVAILABLE. */
  const call = async <T extends { kind?: string; status?: S }, S>(
    what: string,
    kind: string,
    send: (options: ConfigurationOptions) => Promise<T>,
  ): Promise<S> => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    // The object-style API runs middleware as the generated Observable stub, not as promises.
    const options: ConfigurationOptions = {
      middleware: [
        {
          pre: (ctx) => {
            ctx.setSignal(abort.signal);
            return new Observable(Promise.resolve(ctx));
          },
          post: (response) => new Observable(Promise.resolve(response)),
        },
      ],
      middlewareMergeStrategy: 'append',
    };
    let answer: T;
    try {
      answer = await send(options);
    } catch (err) {
      throw unavailable(what, err, timeoutMs, abort.signal.aborted);
    } finally {
      clearTimeout(timer);
    }
    // kube's webhook clients refuse a 2xx answer of another kind (a Status) rather than read it as a review.
    if ((answer.kind !== undefined && answer.kind !== kind) || answer.status === undefined) {
      throw new TokenwardenError(
        'ERR_CLUSTER_UNAVAILABLE',
        `${what} to the cluster failed: the answer is not a ${kind}`,
      );
    }
    return answer.status;
  };
  return {
    tokenReview: (spec) =>
      call('TokenReview', 'TokenReview', (options) =>
        authn.createTokenReview(
          { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec } },
          options,
        ),
      ),
    subjectAccessReview: (spec) =>
      call('SubjectAccessReview', 'SubjectAccessReview', (options) =>
        authz.createSubjectAccessReview(
          { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec } },
          options,
        ),
      ),
  };
}
