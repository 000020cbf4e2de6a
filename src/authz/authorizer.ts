import type { UserInfo } from '../user.js';

/**
 * The attributes of one request to authorize, as kube's `authorizer.Attributes`.
 * A resource request sets `resourceRequest: true` and the resource fields; a
 * non-resource request sets `path`.
 */
export interface Attributes {
  readonly user: UserInfo;
  readonly verb: string;
  readonly resourceRequest: boolean;
  readonly namespace: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  readonly path: string;
}

export type Decision = 'allow' | 'deny' | 'no-opinion';

/**
 * `reason` is shown to users (kube's SAR `status.reason`); `error` is an evaluation
 * error (SAR `status.evaluationError`). RBAC never denies: it allows or has no opinion.
 */
export interface AuthzResult {
  readonly decision: Decision;
  readonly reason: string;
  readonly error?: string;
}

/**
 * kube's `authorizer.Authorizer`. A decision made from memory (RBAC, system:masters) is
 * returned as is, so the hot path allocates no promise; one that must ask elsewhere (the
 * cluster's SubjectAccessReview in live mode) returns a promise. Callers await either.
 */
export interface Authorizer {
  authorize(attributes: Attributes): AuthzResult | Promise<AuthzResult>;
}
