import type { LabelSelector } from '../labels.js';

/** The RBAC objects as kube-apiserver stores them, after defaulting and validation. */

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Every list is present (a missing or null list in the file becomes empty, as Go decodes it). */
export interface PolicyRule {
  readonly verbs: readonly string[];
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly resourceNames: readonly string[];
  readonly nonResourceURLs: readonly string[];
}

export interface Subject {
  readonly kind: string;
  readonly apiGroup: string;
  readonly name: string;
  readonly namespace: string;
}

export interface RoleRef {
  readonly apiGroup: string;
  readonly kind: string;
  readonly name: string;
}

/** Where an object came from, for messages: `file`, 1-based `document`, and `item` inside a List. */
export interface ObjectSource {
  readonly file: string;
  readonly document: number;
  readonly item?: number;
}

export interface Role {
  readonly namespace: string;
  readonly name: string;
  readonly rules: readonly PolicyRule[];
  readonly source: ObjectSource;
}

export interface AggregationRule {
  readonly clusterRoleSelectors: readonly LabelSelector[];
}

export interface ClusterRole {
  readonly name: string;
  readonly labels: ReadonlyMap<string, string>;
  /** After aggregation: for an aggregated role, the controller's result, never the hand-written rules. */
  readonly rules: readonly PolicyRule[];
  readonly aggregationRule?: AggregationRule;
  readonly source: ObjectSource;
}

export interface RoleBinding {
  readonly namespace: string;
  readonly name: string;
  readonly roleRef: RoleRef;
  readonly subjects: readonly Subject[];
  readonly source: ObjectSource;
}

export interface ClusterRoleBinding {
  readonly name: string;
  readonly roleRef: RoleRef;
  readonly subjects: readonly Subject[];
  readonly source: ObjectSource;
}

/** Objects in policy order: files in the order given, documents and List items in file order. */
export interface Policy {
  readonly roles: readonly Role[];
  readonly clusterRoles: readonly ClusterRole[];
  readonly roleBindings: readonly RoleBinding[];
  readonly clusterRoleBindings: readonly ClusterRoleBinding[];
  /** Things skipped on purpose (other kinds, empty documents are not noted), one line each. */
  readonly notes: readonly string[];
}

export interface PolicyInput {
  /** Shown in messages; usually the file path. */
  readonly name: string;
  readonly text: string;
}

export function describeSource(where: ObjectSource): string {
  return `${where.file}: document ${where.document}${where.item === undefined ? '' : `, items[${where.item}]`}`;
}
