/**
 * kube-apiserver v1.37.2's discovery, as kubectl sees it with no CRDs and no aggregated APIs: each
 * built-in resource's group, plural name, singular name, served versions, scope and short names,
 * in kubectl's priority order (the core group, then the groups in the order /apis lists them).
 * Taken from `kubectl get --raw` of /api/v1 and every /apis group version of a default
 * kube-apiserver. `can-i` and `who-can` resolve RESOURCE against it as kubectl's RESTMapper
 * resolves it against a live server.
 */

export interface BuiltinResource {
  readonly group: string;
  /** The plural, the name RBAC rules and SubjectAccessReviews use. */
  readonly resource: string;
  readonly singular: string;
  readonly versions: readonly string[];
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
}

type Row = readonly [string, string, string, readonly string[], boolean, readonly string[]];

const ROWS: readonly Row[] = [
  ['', 'bindings', 'binding', ['v1'], true, []],
  ['', 'componentstatuses', 'componentstatus', ['v1'], false, ['cs']],
  ['', 'configmaps', 'configmap', ['v1'], true, ['cm']],
  ['', 'endpoints', 'endpoints', ['v1'], true, ['ep']],
  ['', 'events', 'event', ['v1'], true, ['ev']],
  ['', 'limitranges', 'limitrange', ['v1'], true, ['limits']],
  ['', 'namespaces', 'namespace', ['v1'], false, ['ns']],
  ['', 'nodes', 'node', ['v1'], false, ['no']],
  ['', 'persistentvolumeclaims', 'persistentvolumeclaim', ['v1'], true, ['pvc']],
  ['', 'persistentvolumes', 'persistentvolume', ['v1'], false, ['pv']],
  ['', 'pods', 'pod', ['v1'], true, ['po']],
  ['', 'podtemplates', 'podtemplate', ['v1'], true, []],
  ['', 'replicationcontrollers', 'replicationcontroller', ['v1'], true, ['rc']],
  ['', 'resourcequotas', 'resourcequota', ['v1'], true, ['quota']],
  ['', 'secrets', 'secret', ['v1'], true, []],
  ['', 'serviceaccounts', 'serviceaccount', ['v1'], true, ['sa']],
  ['', 'services', 'service', ['v1'], true, ['svc']],
  ['apiregistration.k8s.io', 'apiservices', 'apiservice', ['v1'], false, []],
  ['apps', 'controllerrevisions', 'controllerrevision', ['v1'], true, []],
  ['apps', 'daemonsets', 'daemonset', ['v1'], true, ['ds']],
  ['apps', 'deployments', 'deployment', ['v1'], true, ['deploy']],
  ['apps', 'replicasets', 'replicaset', ['v1'], true, ['rs']],
  ['apps', 'statefulsets', 'statefulset', ['v1'], true, ['sts']],
  ['events.k8s.io', 'events', 'event', ['v1'], true, ['ev']],
  ['authentication.k8s.io', 'selfsubjectreviews', 'selfsubjectreview', ['v1'], false, []],
  ['authentication.k8s.io', 'tokenreviews', 'tokenreview', ['v1'], false, []],
  ['authorization.k8s.io', 'localsubjectaccessreviews', 'localsubjectaccessreview', ['v1'], true, []],
  ['authorization.k8s.io', 'selfsubjectaccessreviews', 'selfsubjectaccessreview', ['v1'], false, []],
  ['authorization.k8s.io', 'selfsubjectrulesreviews', 'selfsubjectrulesreview', ['v1'], false, []],
  ['authorization.k8s.io', 'subjectaccessreviews', 'subjectaccessreview', ['v1'], false, []],
  ['autoscaling', 'horizontalpodautoscalers', 'horizontalpodautoscaler', ['v2', 'v1'], true, ['hpa']],
  ['batch', 'cronjobs', 'cronjob', ['v1'], true, ['cj']],
  ['batch', 'jobs', 'job', ['v1'], true, []],
  ['certificates.k8s.io', 'certificatesigningrequests', 'certificatesigningrequest', ['v1'], false, ['csr']],
  ['certificates.k8s.io', 'clustertrustbundles', 'clustertrustbundle', ['v1'], false, []],
  ['certificates.k8s.io', 'podcertificaterequests', 'podcertificaterequest', ['v1'], true, []],
  ['networking.k8s.io', 'ingressclasses', 'ingressclass', ['v1'], false, []],
  ['networking.k8s.io', 'ingresses', 'ingress', ['v1'], true, ['ing']],
  ['networking.k8s.io', 'ipaddresses', 'ipaddress', ['v1'], false, ['ip']],
  ['networking.k8s.io', 'networkpolicies', 'networkpolicy', ['v1'], true, ['netpol']],
  ['networking.k8s.io', 'servicecidrs', 'servicecidr', ['v1'], false, []],
  ['policy', 'poddisruptionbudgets', 'poddisruptionbudget', ['v1'], true, ['pdb']],
  ['rbac.authorization.k8s.io', 'clusterrolebindings', 'clusterrolebinding', ['v1'], false, []],
  ['rbac.authorization.k8s.io', 'clusterroles', 'clusterrole', ['v1'], false, []],
  ['rbac.authorization.k8s.io', 'rolebindings', 'rolebinding', ['v1'], true, []],
  ['rbac.authorization.k8s.io', 'roles', 'role', ['v1'], true, []],
  ['storage.k8s.io', 'csidrivers', 'csidriver', ['v1'], false, []],
  ['storage.k8s.io', 'csinodes', 'csinode', ['v1'], false, []],
  ['storage.k8s.io', 'csistoragecapacities', 'csistoragecapacity', ['v1'], true, []],
  ['storage.k8s.io', 'storageclasses', 'storageclass', ['v1'], false, ['sc']],
  ['storage.k8s.io', 'volumeattachments', 'volumeattachment', ['v1'], false, []],
  ['storage.k8s.io', 'volumeattributesclasses', 'volumeattributesclass', ['v1'], false, ['vac']],
  ['admissionregistration.k8s.io', 'mutatingadmissionpolicies', 'mutatingadmissionpolicy', ['v1'], false, []],
  [
    'admissionregistration.k8s.io',
    'mutatingadmissionpolicybindings',
    'mutatingadmissionpolicybinding',
    ['v1'],
    false,
    [],
  ],
  [
    'admissionregistration.k8s.io',
    'mutatingwebhookconfigurations',
    'mutatingwebhookconfiguration',
    ['v1'],
    false,
    [],
  ],
  [
    'admissionregistration.k8s.io',
    'validatingadmissionpolicies',
    'validatingadmissionpolicy',
    ['v1'],
    false,
    [],
  ],
  [
    'admissionregistration.k8s.io',
    'validatingadmissionpolicybindings',
    'validatingadmissionpolicybinding',
    ['v1'],
    false,
    [],
  ],
  [
    'admissionregistration.k8s.io',
    'validatingwebhookconfigurations',
    'validatingwebhookconfiguration',
    ['v1'],
    false,
    [],
  ],
  [
    'apiextensions.k8s.io',
    'customresourcedefinitions',
    'customresourcedefinition',
    ['v1'],
    false,
    ['crd', 'crds'],
  ],
  ['scheduling.k8s.io', 'priorityclasses', 'priorityclass', ['v1'], false, ['pc']],
  ['coordination.k8s.io', 'leases', 'lease', ['v1'], true, []],
  ['node.k8s.io', 'runtimeclasses', 'runtimeclass', ['v1'], false, []],
  ['discovery.k8s.io', 'endpointslices', 'endpointslice', ['v1'], true, []],
  ['resource.k8s.io', 'deviceclasses', 'deviceclass', ['v1'], false, []],
  ['resource.k8s.io', 'devicetaintrules', 'devicetaintrule', ['v1'], false, []],
  ['resource.k8s.io', 'resourceclaims', 'resourceclaim', ['v1'], true, []],
  ['resource.k8s.io', 'resourceclaimtemplates', 'resourceclaimtemplate', ['v1'], true, []],
  ['resource.k8s.io', 'resourceslices', 'resourceslice', ['v1'], false, []],
  ['flowcontrol.apiserver.k8s.io', 'flowschemas', 'flowschema', ['v1'], false, []],
  [
    'flowcontrol.apiserver.k8s.io',
    'prioritylevelconfigurations',
    'prioritylevelconfiguration',
    ['v1'],
    false,
    [],
  ],
  ['storagemigration.k8s.io', 'storageversionmigrations', 'storageversionmigration', ['v1'], false, []],
];

export const BUILTIN_RESOURCES: readonly BuiltinResource[] = ROWS.map(
  ([group, resource, singular, versions, namespaced, shortNames]) => ({
    group,
    resource,
    singular,
    versions,
    namespaced,
    shortNames,
  }),
);
