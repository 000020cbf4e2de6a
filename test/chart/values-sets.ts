// The values sets the chart tests render: one per way of installing it.

/** RBAC objects for tokenwarden's SubjectAccessReview policy, as an operator would give them in values. */
export const POLICIES = [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'pod-reader' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'devs-read-pods' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'pod-reader' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'devs' }],
  },
];

export const VALUES_SETS: Readonly<Record<string, object>> = {
  defaults: {},
  'cert-manager': { tls: { mode: 'certManager' } },
  'cert-manager with an issuer': {
    tls: { mode: 'certManager', certManager: { issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer' } } },
  },
  'existing Secret': { tls: { mode: 'secret', secretName: 'tokenwarden-serving' } },
  'live mode': { live: { enabled: true } },
  'live mode, issuer discovered': { live: { enabled: true }, serviceAccountTokens: { issuers: [] } },
  'live mode, delegating': {
    live: { enabled: true, delegateUnknownTokens: true, delegateAuthorization: true },
  },
  'authorization-only': {
    authentication: { webhook: false },
    serviceAccountTokens: { issuers: [] },
    authorization: { policies: POLICIES },
  },
  everything: {
    service: { clusterIP: '10.96.0.50' },
    tls: {
      minVersion: 'VersionTLS13',
      cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
    },
    bindAddress: '0.0.0.0',
    logLevel: 'debug',
    serviceAccountTokens: {
      issuers: ['https://kubernetes.default.svc.cluster.local', 'https://oidc.example.com'],
      apiAudiences: ['https://kubernetes.default.svc.cluster.local', 'vault'],
      jwksUris: ['https://oidc.example.com=https://oidc.example.com/keys'],
      discovery: true,
      keyFiles: [
        { name: 'sa-pub', secret: 'cluster-sa-key', key: 'sa.pub' },
        { name: 'old-keys', configMap: 'retired-keys', key: 'keys.jwks' },
      ],
      legacyTokens: 'accept',
    },
    authenticationConfig: {
      apiVersion: 'apiserver.config.k8s.io/v1',
      kind: 'AuthenticationConfiguration',
      jwt: [
        {
          issuer: { url: 'https://idp.example.com', audiences: ['kubernetes'] },
          claimMappings: { username: { claim: 'email', prefix: 'idp:' } },
        },
      ],
    },
    tokenAuthSecret: 'static-tokens',
    authorization: { policies: POLICIES, policyConfigMaps: [{ name: 'exported-rbac', key: 'rbac.yaml' }] },
    authorizeCallers: {
      groups: ['system:masters'],
      serviceAccounts: [{ namespace: 'vault', name: 'vault' }],
    },
    autoscaling: { enabled: true },
    metrics: {
      gcDuration: true,
      scrapers: { serviceAccounts: [{ namespace: 'monitoring', name: 'prometheus-k8s' }] },
      serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
      prometheusRule: { enabled: true },
      grafanaDashboard: { enabled: true },
    },
    priorityClassName: 'system-cluster-critical',
    workers: 'auto',
    resources: { requests: { cpu: '1', memory: '256Mi' }, limits: { cpu: '2', memory: '512Mi' } },
    extraArgs: ['--cache-size=50000'],
  },
};
