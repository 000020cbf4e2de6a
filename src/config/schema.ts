/**
 * Every setting, once: its flag, its YAML key (the flag without dashes' prefix), type,
 * default and help. Flags, the `--config` file, `--help` and docs/configuration.md all
 * come from this table, so they cannot drift apart. Names follow kube-apiserver wherever
 * the concept is the same.
 */
export type OptionType = 'string' | 'int' | 'bool' | 'duration' | 'list' | 'enum' | 'path';

export interface OptionSpec {
  /** Flag name without the leading `--`; also the key in the YAML file. */
  readonly name: string;
  readonly type: OptionType;
  /** May be given several times (and as a YAML list); a flag replaces the file's list. */
  readonly repeatable?: boolean;
  readonly values?: readonly string[];
  readonly default?: string | number | boolean | readonly string[];
  readonly help: string;
  /** Commands that take this option. */
  readonly commands: readonly CommandName[];
  /** Defaults that differ by command (dev listens on loopback only). */
  readonly defaultFor?: Partial<Record<CommandName, string | number | boolean>>;
  /** A deprecated name of the option named here: still read, with a warning once. */
  readonly deprecatedAliasOf?: string;
}

export type CommandName = 'serve' | 'dev' | 'verify' | 'jwks' | 'proxy';

const SERVE: readonly CommandName[] = ['serve'];
/** More worker processes than this is a typo, not a machine: each holds its own keys and caches. */
export const MAX_WORKERS = 64;
/** Commands with a production listener: TLS files, client CAs, policy. */
const LISTENING: readonly CommandName[] = ['serve', 'proxy'];
const SERVING: readonly CommandName[] = ['serve', 'dev', 'proxy'];
const VERIFYING: readonly CommandName[] = ['serve', 'verify', 'proxy'];

export const OPTIONS: readonly OptionSpec[] = [
  {
    name: 'config',
    type: 'path',
    help: 'YAML file holding any of these settings; a flag overrides the file.',
    commands: ['serve', 'verify', 'jwks', 'proxy'],
  },
  {
    name: 'secure-port',
    type: 'int',
    default: 8443,
    help: 'HTTPS port to listen on (0 picks a free one).',
    commands: SERVING,
  },
  {
    name: 'bind-address',
    type: 'string',
    default: '0.0.0.0',
    defaultFor: { dev: '127.0.0.1' },
    help: 'Address to listen on.',
    commands: SERVING,
  },
  {
    name: 'tls-cert-file',
    type: 'path',
    help: 'Serving certificate (PEM, with intermediates); reloaded when it changes.',
    commands: LISTENING,
  },
  {
    name: 'tls-private-key-file',
    type: 'path',
    help: 'Private key of the serving certificate; reloaded when it changes.',
    commands: LISTENING,
  },
  {
    name: 'tls-min-version',
    type: 'enum',
    values: ['VersionTLS10', 'VersionTLS11', 'VersionTLS12', 'VersionTLS13'],
    default: 'VersionTLS12',
    help: "Lowest TLS version accepted, in kube-apiserver's spelling.",
    commands: SERVING,
  },
  {
    name: 'tls-cipher-suites',
    type: 'list',
    help: "TLS 1.0-1.2 cipher suites, comma-separated, by kube-apiserver's (Go's) names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (default: Node.js's). TLS 1.3 suites are not configurable, as in Go.",
    commands: SERVING,
  },
  {
    name: 'client-ca-file',
    type: 'path',
    help: 'CA bundle for client certificates: the server requests one (not required) and verifies it against this bundle.',
    commands: LISTENING,
  },
  {
    name: 'service-account-issuer',
    type: 'string',
    repeatable: true,
    help: 'Accepted iss value of service-account tokens (repeatable).',
    commands: VERIFYING,
  },
  {
    name: 'service-account-key-file',
    type: 'path',
    repeatable: true,
    help: 'PEM public keys, certificates, RSA/EC private keys (public half used) or a JWKS file (repeatable); reloaded on change.',
    commands: [...VERIFYING, 'jwks'],
  },
  {
    name: 'service-account-jwks-uri',
    type: 'string',
    repeatable: true,
    help: 'Fetch keys from this https JWKS URL, refreshed and cached (repeatable). ISSUER=URL binds it to one --service-account-issuer; a plain URL serves every issuer, as key files do.',
    commands: VERIFYING,
  },
  {
    name: 'service-account-issuer-discovery',
    type: 'bool',
    help: "Find each --service-account-issuer's keys through ISSUER/.well-known/openid-configuration (its issuer must match exactly; its jwks_uri must be https).",
    commands: VERIFYING,
  },
  {
    name: 'service-account-jwks-ca-file',
    type: 'string',
    repeatable: true,
    help: 'PEM CA bundle trusted for JWKS and discovery requests instead of the system roots; ISSUER=PATH for one issuer, PATH for all (repeatable).',
    commands: VERIFYING,
  },
  {
    name: 'service-account-jwks-token-file',
    type: 'string',
    repeatable: true,
    help: "File with a bearer token sent on JWKS and discovery requests, re-read on every fetch (e.g. the pod's projected token for kube-apiserver's /openid/v1/jwks), and only to the origin configured: a discovered jwks_uri on another scheme, host or port gets no token; ISSUER=PATH or PATH (repeatable).",
    commands: VERIFYING,
  },
  {
    name: 'allow-loopback-key-sources',
    type: 'bool',
    default: false,
    help: 'Let JWKS and discovery requests (--service-account-* and --authentication-config issuers) connect to a loopback address that a host name such as localhost resolves to. A URL naming a loopback IP itself (https://127.0.0.1:...) needs no flag; link-local, cloud metadata (169.254.169.254) and unspecified addresses are always refused.',
    commands: VERIFYING,
  },
  {
    name: 'authentication-config',
    type: 'path',
    help: 'kube-apiserver AuthenticationConfiguration file (apiserver.config.k8s.io v1beta1 or v1): its jwt[] issuers, claim rules and mappings are honoured as kube-apiserver does; reloaded on change, a bad edit keeping the last good configuration.',
    commands: VERIFYING,
  },
  {
    name: 'token-auth-file',
    type: 'path',
    help: 'kube-apiserver\'s static token CSV (token,user,uid,"group1,group2"); reloaded on change.',
    commands: VERIFYING,
  },
  {
    name: 'requestheader-client-ca-file',
    type: 'path',
    help: "CA bundle that must have signed a front proxy's client certificate before its identity headers are believed.",
    commands: LISTENING,
  },
  {
    name: 'requestheader-allowed-names',
    type: 'list',
    help: 'Common names a front-proxy certificate may carry (empty: any verified by --requestheader-client-ca-file).',
    commands: LISTENING,
  },
  {
    name: 'requestheader-username-headers',
    type: 'list',
    help: 'Headers holding the user name, first non-empty wins (kube has no default; the convention is X-Remote-User).',
    commands: LISTENING,
  },
  {
    name: 'requestheader-uid-headers',
    type: 'list',
    help: 'Headers holding the user uid (convention X-Remote-Uid).',
    commands: LISTENING,
  },
  {
    name: 'requestheader-group-headers',
    type: 'list',
    help: 'Headers holding groups, one per header line, never comma-split (convention X-Remote-Group).',
    commands: LISTENING,
  },
  {
    name: 'requestheader-extra-headers-prefix',
    type: 'list',
    help: 'Header prefixes for user extra values (convention X-Remote-Extra-).',
    commands: LISTENING,
  },
  {
    name: 'api-audiences',
    type: 'list',
    help: 'Comma-separated audiences assumed when a TokenReview names none (default: every --service-account-issuer).',
    commands: VERIFYING,
  },
  {
    name: 'service-account-legacy-tokens',
    type: 'enum',
    values: ['reject', 'accept'],
    default: 'reject',
    help: 'Secret-based tokens (iss kubernetes/serviceaccount) never expire: rejected unless set to accept.',
    commands: VERIFYING,
  },
  {
    name: 'kubeconfig',
    type: 'path',
    help: "Live mode: watch this cluster (current context) and check that the service account, secret, pod or node a token is bound to still exists with the same uid, as kube-apiserver does; the cluster's RBAC becomes the policy, beside any --rbac-policy-file; without a service-account key source, the apiserver's own issuer and keys are used (docs/live-mode.md).",
    commands: SERVE,
  },
  {
    name: 'in-cluster-config',
    type: 'bool',
    default: false,
    help: "Live mode with the pod's own service account and the cluster it runs in, instead of --kubeconfig.",
    commands: SERVE,
  },
  {
    name: 'live-staleness-bound',
    type: 'duration',
    default: '5m',
    help: 'Live mode: /readyz fails once a broken watch has kept its last known state this long.',
    commands: SERVE,
  },
  {
    name: 'delegate-unknown-tokens',
    type: 'bool',
    default: false,
    help: "Live mode: a bearer token no local authenticator claims (no issuer, static token or legacy rule of tokenwarden's own applies) is reviewed by the cluster's TokenReview API; answers kept 10s, errors never (docs/live-mode.md).",
    commands: SERVE,
  },
  {
    name: 'delegate-authorization',
    type: 'bool',
    default: false,
    help: "Live mode: what the local policy has no opinion on goes to the cluster's SubjectAccessReview API (reviews, --authorize-callers, the check endpoint); decisions kept 10s, errors never and never an allow.",
    commands: SERVE,
  },
  {
    name: 'authorize-callers',
    type: 'bool',
    default: false,
    help: 'Callers of the review endpoints must authenticate (client certificate or a bearer token tokenwarden validates) and be allowed create on tokenreviews/subjectaccessreviews by the policy, as kube-apiserver requires system:auth-delegator; /metrics then needs get on the non-resource URL /metrics.',
    commands: SERVE,
  },
  {
    name: 'rbac-policy-file',
    type: 'path',
    repeatable: true,
    help: 'RBAC objects (Role, ClusterRole, RoleBinding, ClusterRoleBinding; multi-document YAML, JSON or List) that answer SubjectAccessReviews (repeatable); reloaded on change. With only these files (no --service-account-issuer) serve answers SubjectAccessReviews alone.',
    commands: LISTENING,
  },
  {
    name: 'authorization-policy-file',
    type: 'path',
    repeatable: true,
    help: "Deprecated name of --rbac-policy-file (kube-apiserver's flag of this name takes an ABAC file, not RBAC objects).",
    commands: LISTENING,
    deprecatedAliasOf: 'rbac-policy-file',
  },
  {
    name: 'audience',
    type: 'string',
    repeatable: true,
    help: 'Audience the token must hold one of (repeatable; verify and proxy; default: the API audiences).',
    commands: ['verify', 'proxy'],
  },
  {
    name: 'upstream',
    type: 'string',
    help: "Where the proxy sends authenticated requests: http://HOST:PORT, https://HOST:PORT or unix:///PATH/TO.sock (no path: the client's path and query go upstream byte for byte).",
    commands: ['proxy'],
  },
  {
    name: 'upstream-ca-file',
    type: 'path',
    help: "PEM CA bundle that an https upstream's certificate must chain to (default: the system roots).",
    commands: ['proxy'],
  },
  {
    name: 'proxy-endpoints-port',
    type: 'int',
    help: "HTTPS port for the proxy's own /livez, /readyz, /healthz and /metrics (kube-rbac-proxy's flag; 0 picks a free one). Unset, they are not served: on --secure-port every path belongs to the upstream.",
    commands: ['proxy'],
  },
  {
    name: 'pass-authorization',
    type: 'bool',
    default: false,
    help: "Forward the client's Authorization header to the upstream (by default the token stays in the proxy).",
    commands: ['proxy'],
  },
  {
    name: 'ignore-path',
    type: 'string',
    repeatable: true,
    help: 'Path passed without authentication (repeatable): exact, or a prefix when it ends in * (/healthz, /static/*). Spoofed identity headers are still stripped.',
    commands: LISTENING,
  },
  {
    name: 'allow-service-account',
    type: 'string',
    repeatable: true,
    help: 'Only this service account may pass, as NAMESPACE:NAME (repeatable; with --allow-namespace and --allow-group, any match passes; others get 403).',
    commands: LISTENING,
  },
  {
    name: 'allow-namespace',
    type: 'string',
    repeatable: true,
    help: 'Service accounts of this namespace may pass (repeatable).',
    commands: LISTENING,
  },
  {
    name: 'allow-group',
    type: 'string',
    repeatable: true,
    help: 'Members of this group may pass (repeatable).',
    commands: LISTENING,
  },
  {
    name: 'config-file',
    type: 'path',
    help: "kube-rbac-proxy's config file: authorization.resourceAttributes, rewrites and static, decided per request (with the RBAC policy of --rbac-policy-file). Without it and with a policy, each request is authorized as a non-resource request for its path.",
    commands: LISTENING,
  },
  {
    name: 'check-endpoint',
    type: 'bool',
    default: false,
    help: 'Serve /check, the ext-authz endpoint for Envoy ext_authz, nginx auth_request and Traefik forwardAuth, on the same listener.',
    commands: LISTENING,
  },
  {
    name: 'cache-ttl',
    type: 'duration',
    default: '2m',
    help: 'Longest life of a cached positive result (never beyond the token exp).',
    commands: SERVING,
  },
  {
    name: 'cache-size',
    type: 'int',
    default: 10000,
    help: 'Most cached positive results; rejections get a tenth of it.',
    commands: SERVING,
  },
  {
    name: 'negative-cache-ttl',
    type: 'duration',
    default: '10s',
    help: 'Life of a cached rejection (0 disables).',
    commands: SERVING,
  },
  {
    name: 'max-request-bytes',
    type: 'int',
    default: 131072,
    help: 'Largest accepted request body; larger gets 413.',
    commands: ['serve', 'dev'],
  },
  {
    name: 'shutdown-delay-duration',
    type: 'duration',
    default: '0s',
    help: 'On SIGTERM, keep serving this long with /readyz failing, so endpoints drop the pod first.',
    commands: SERVING,
  },
  {
    name: 'shutdown-timeout',
    type: 'duration',
    default: '30s',
    help: 'Longest wait for in-flight requests after the listener closes.',
    commands: SERVING,
  },
  {
    name: 'workers',
    type: 'string',
    default: '1',
    help: `Processes serving the one listener (node:cluster), each with its own caches, from 1 to ${MAX_WORKERS}; auto = the container's CPU limit (cgroup cpu.max or cfs quota, rounded down), else the CPUs available. /metrics sums every worker's counts; /readyz fails while any serving worker is not ready.`,
    commands: SERVE,
  },
  {
    name: 'gc-duration-metric',
    type: 'bool',
    default: false,
    help: "Also export tokenwarden_nodejs_gc_duration_seconds, prom-client's GC-duration histogram. Off by default: on Node.js 20 each garbage collection it observes allocates in V8's old generation, which brings full collections sooner and lengthens the latency tail under load (docs/benchmarks.md); tokenwarden_nodejs_eventloop_lag_seconds shows pauses of any cause without that cost.",
    commands: ['serve', 'proxy'],
  },
  {
    name: 'log-level',
    type: 'enum',
    values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    default: 'info',
    help: 'pino log level; tokens are never logged.',
    commands: SERVING,
  },
];

export function optionsFor(command: CommandName): OptionSpec[] {
  return OPTIONS.filter((o) => o.commands.includes(command));
}

/** `--help` text of a command, from the table. */
export function helpText(command: CommandName, usage: string): string {
  const lines = [`Usage: ${usage}`, '', 'Options:'];
  for (const o of optionsFor(command)) {
    const arg = o.type === 'bool' ? '' : o.values ? ` <${o.values.join('|')}>` : ` <${o.type}>`;
    const fallback = o.defaultFor?.[command] ?? o.default;
    const def = fallback === undefined ? '' : ` (default ${String(fallback)})`;
    lines.push(`  --${o.name}${arg}${o.repeatable ? ' ...' : ''}`, `      ${o.help}${def}`);
  }
  lines.push('  --help', '      Show this help.');
  return lines.join('\n');
}
