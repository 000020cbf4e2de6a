import type { Logger } from 'pino';
import type { Attributes, Authorizer, AuthzResult } from '../authz/authorizer.js';
import type { ClusterReviews } from './cluster-reviews.js';

/**
 * k8s.io/apiserver's delegating authorizer (`DelegatingAuthorizationOptions`): allowed answers
 * kept 10 s, every other answer 10 s, errors never. These defaults of a server that defers to
 * the cluster apply here; kube-apiserver's own authorization webhook keeps 5 m / 30 s.
 */
export const DELEGATED_ALLOW_TTL_MS = 10_000;
export const DELEGATED_DENY_TTL_MS = 10_000;
/** kube's webhook authorizer keeps at most this many decisions (an LRU). */
export const DELEGATED_DECISIONS = 8192;

/**
 * kube's webhook authorizer (`AS/plugin/pkg/authorizer/webhook/webhook.go`) with the
 * cluster's SubjectAccessReview API as the webhook: the attributes become a v1
 * SubjectAccessReview spec; `allowed` and `denied` both → deny with kube's error, `denied` →
 * deny, `allowed` → allow, neither → no opinion, with the cluster's `reason`. The cluster's
 * `evaluationError` is passed on as the evaluation error (kube's client drops it). A cluster
 * that gives no answer is no opinion with the error: never an allow, never cached.
 */
export function clusterAuthorizer(
  cluster: ClusterReviews,
  options: { readonly logger?: Logger } = {},
): Authorizer {
  return {
    async authorize(a: Attributes): Promise<AuthzResult> {
      const { user } = a;
      let status;
      try {
        status = await cluster.subjectAccessReview({
          user: user.username,
          ...(user.uid !== undefined ? { uid: user.uid } : {}),
          groups: [...user.groups],
          ...(user.extra
            ? { extra: Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]])) }
            : {}),
          ...(a.resourceRequest
            ? {
                resourceAttributes: {
                  namespace: a.namespace,
                  verb: a.verb,
                  group: a.apiGroup,
                  version: a.apiVersion,
                  resource: a.resource,
                  subresource: a.subresource,
                  name: a.name,
                },
              }
            : { nonResourceAttributes: { path: a.path, verb: a.verb } }),
        });
      } catch (err) {
        const message = err instanceof Error ? err.message : 'SubjectAccessReview to the cluster failed';
        options.logger?.warn({ reason: message }, 'delegated SubjectAccessReview failed');
        return { decision: 'no-opinion', reason: '', error: message };
      }
      const reason = status.reason ?? '';
      const evaluationError = status.evaluationError ? { error: status.evaluationError } : {};
      if (status.allowed && status.denied) {
        return {
          decision: 'deny',
          reason,
          error: 'webhook subject access review returned both allow and deny response',
        };
      }
      if (status.denied) return { decision: 'deny', reason, ...evaluationError };
      if (status.allowed) return { decision: 'allow', reason, ...evaluationError };
      return { decision: 'no-opinion', reason, ...evaluationError };
    },
  } satisfies Authorizer;
}
