/** Kubernetes wire shapes that tokenwarden reads and writes (authentication.k8s.io, authorization.k8s.io). */

export const AUTHN_GROUP = 'authentication.k8s.io';
export const AUTHZ_GROUP = 'authorization.k8s.io';
export type ApiVersionName = 'v1' | 'v1beta1';

export interface ObjectMeta {
  [key: string]: unknown;
}

export interface TokenReviewStatusUser {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface TokenReviewStatus {
  authenticated?: boolean;
  user: TokenReviewStatusUser;
  audiences?: string[];
  error?: string;
}

/** The response: `spec` is deliberately never echoed, because it holds the token. */
export interface TokenReviewResponse {
  kind: 'TokenReview';
  apiVersion: string;
  metadata: ObjectMeta;
  status: TokenReviewStatus;
}

export interface ResourceAttributesWire {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  fieldSelector?: unknown;
  labelSelector?: unknown;
}

export interface NonResourceAttributesWire {
  path?: string;
  verb?: string;
}

export interface SubjectAccessReviewStatus {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

/** A SubjectAccessReview, LocalSubjectAccessReview or SelfSubjectAccessReview answered. */
export interface SubjectAccessReviewResponse {
  kind: 'SubjectAccessReview' | 'LocalSubjectAccessReview' | 'SelfSubjectAccessReview';
  apiVersion: string;
  metadata: ObjectMeta;
  spec: Record<string, unknown>;
  status: SubjectAccessReviewStatus;
}

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'InternalError'
  | 'ServiceUnavailable';

/** Kubernetes `Status` (meta/v1) for failures that are not reviews. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: ObjectMeta;
  status: 'Failure';
  message: string;
  reason: StatusReason;
  code: number;
  details?: Record<string, unknown>;
}

export function statusOf(code: number, reason: StatusReason, message: string): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}
