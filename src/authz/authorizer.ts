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

export interface Authorizer {
  authorize(attributes: Attributes): AuthzResult;
}
