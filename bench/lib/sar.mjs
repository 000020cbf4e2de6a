// The SubjectAccessReview workload of bench/sar-http.mjs and bench/sar-parts.mjs (bench only).

/** A policy like a busy cluster's: every service account of 100 namespaces bound to a Role. */
export function sarPolicy(n) {
  const docs = [];
  for (let ns = 0; ns < 100; ns++) {
    docs.push(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: reader, namespace: ns${ns} }
rules:
  - { apiGroups: [""], resources: [pods, configmaps], verbs: [get, list, watch] }`);
  }
  for (let i = 0; i < n; i++) {
    const ns = i % 100;
    docs.push(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: rb-${i}, namespace: ns${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader }
subjects: [{ kind: ServiceAccount, name: sa-${i}, namespace: ns${ns} }]`);
  }
  return docs.join('\n---\n');
}

/** The review body: a service account asking for `verb` on pods in ns42. */
export const sarBody = (user, verb) =>
  JSON.stringify({
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user,
      groups: ['system:serviceaccounts', 'system:authenticated'],
      resourceAttributes: { namespace: 'ns42', verb, resource: 'pods', version: 'v1' },
    },
  });
