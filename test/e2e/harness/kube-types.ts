// The slice of the review APIs' wire shapes that the e2e tests read (authentication.k8s.io/v1, authorization.k8s.io/v1).
// Local on purpose: the suite checks src/ against kube and must not share its types.

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface TokenReviewRequest {
  apiVersion?: string;
  kind?: string;
  spec: { token: string; audiences?: string[] };
}

/** A TokenReview answer with `spec.token` removed by the harness, so a test cannot print it by accident. */
export interface TokenReviewResult {
  apiVersion: string;
  kind: string;
  spec: { audiences?: string[] };
  status: {
    authenticated?: boolean;
    user?: UserInfo;
    audiences?: string[];
    error?: string;
  };
}

export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export interface SubjectAccessReviewRequest {
  apiVersion?: string;
  kind?: string;
  spec: {
    user?: string;
    uid?: string;
    groups?: string[];
    extra?: Record<string, string[]>;
    resourceAttributes?: ResourceAttributes;
    nonResourceAttributes?: { path?: string; verb?: string };
  };
}

export interface SubjectAccessReviewResult {
  apiVersion: string;
  kind: string;
  spec: SubjectAccessReviewRequest['spec'];
  status: { allowed: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}
