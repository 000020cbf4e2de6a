import { opensslCiphers, tlsMinVersion, type TlsPolicy } from '../http/tls-policy.js';
import cluster from 'node:cluster';
import { accessSync, constants, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { GO_YAML_OPTIONS, mergeOrderProblem } from '../go-yaml.js';
import { defaultApiAudiences } from '../authn/audiences.js';
import type { FrontProxyOptions } from '../compose/options.js';
import { TokenwardenError } from '../errors.js';
import { parseDuration } from './duration.js';
import { MAX_WORKERS, optionsFor, type CommandName, type OptionSpec } from './schema.js';

export type LegacyTokens = 'reject' | 'accept';

/** Settings after validation; frozen, so nothing downstream can change them. */
export interface ResolvedConfig {
  readonly command: CommandName;
  readonly positionals: readonly string[];
  readonly help: boolean;
  readonly securePort: number;
  readonly bindAddress: string;
  readonly tlsCertFile?: string;
  readonly tlsPrivateKeyFile?: string;
  readonly clientCaFile?: string;
  readonly serviceAccountIssuers: readonly string[];
  readonly serviceAccountKeyFiles: readonly string[];
  /** `--api-audiences`, or every issuer when unset (kube's default). */
  readonly apiAudiences: readonly string[];
  readonly legacyTokens: LegacyTokens;
  readonly audiences: readonly string[];
  readonly rbacPolicyFiles: readonly string[];
  /** node:tls settings from --tls-min-version and --tls-cipher-suites. */
  readonly tlsPolicy: TlsPolicy;
  readonly authorizeCallers: boolean;
  readonly cacheTtlMs: number;
  readonly cacheSize: number;
  readonly negativeCacheTtlMs: number;
  readonly maxRequestBytes: number;
  readonly shutdownDelayMs: number;
  readonly shutdownTimeoutMs: number;
  readonly logLevel: string;
  /** `--gc-duration-metric`: prom-client's GC-duration histogram on /metrics. */
  readonly gcDurationMetric: boolean;
  /** `--workers`: processes sharing the listener; `auto` is resolved when serving starts. */
  readonly workers: number | 'auto';
  /** `--service-account-jwks-uri`s; `issuer` unset means the URL serves every SA issuer. */
  readonly serviceAccountJwksUris: readonly IssuerBound[];
  readonly serviceAccountIssuerDiscovery: boolean;
  readonly serviceAccountJwksCaFiles: readonly IssuerBound[];
  readonly serviceAccountJwksTokenFiles: readonly IssuerBound[];
  /** `--allow-loopback-key-sources`: key fetches may reach loopback addresses that names resolve to. */
  readonly allowLoopbackKeySources: boolean;
  readonly authenticationConfigFile?: string;
  readonly tokenAuthFile?: string;
  readonly requestHeader?: FrontProxyOptions;
  readonly proxy: ProxySettings;
  /** Live mode's cluster: a kubeconfig file, or `in-cluster`. */
  readonly live?: {
    readonly kubeconfigFile?: string;
    readonly stalenessBoundMs: number;
    readonly delegateUnknownTokens: boolean;
    readonly delegateAuthorization: boolean;
  };
}

/** `proxy` (and `serve --check-endpoint`) settings; the upstream ones are unset for serve. */
export interface ProxySettings {
  readonly upstream?: string;
  readonly upstreamCaFile?: string;
  readonly passAuthorization: boolean;
  readonly ignorePaths: readonly string[];
  readonly allowServiceAccounts: readonly string[];
  readonly allowNamespaces: readonly string[];
  readonly allowGroups: readonly string[];
  /** kube-rbac-proxy's `--config-file`. */
  readonly rbacProxyConfigFile?: string;
  readonly checkEndpoint: boolean;
  /** `--proxy-endpoints-port`: the health and metrics listener; unset, none. */
  readonly endpointsPort?: number;
}

/** A value given as `ISSUER=VALUE` (bound to one issuer) or `VALUE` (every issuer). */
export interface IssuerBound {
  readonly issuer?: string;
  readonly value: string;
}

/**
 * `ISSUER=VALUE` binds VALUE to a configured issuer (the longest issuer that prefixes the
 * value followed by `=`); anything else is a value for every issuer. URLs may hold `=`
 * in their query, so only a configured issuer's name counts as a prefix.
 */
function issuerBound(values: readonly string[], issuers: readonly string[], where: string): IssuerBound[] {
  return values.map((v) => {
    const issuer = issuers.filter((i) => v.startsWith(`${i}=`)).sort((a, b) => b.length - a.length)[0];
    const value = issuer === undefined ? v : v.slice(issuer.length + 1);
    if (value === '') throw invalid(`${where}: empty value`);
    return issuer === undefined ? { value } : { issuer, value };
  });
}

const invalid = (message: string): TokenwardenError => new TokenwardenError('ERR_CONFIG_INVALID', message);

type Raw = string | boolean | string[] | number | undefined;

/** Where a value came from, for error messages: `--flag` or `file.yaml: key`. */
type Origin = (name: string) => string;

function checkReadable(path: string, where: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    throw invalid(`${where}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

function typed(spec: OptionSpec, raw: Raw, where: string): unknown {
  const one = (v: unknown): unknown => {
    switch (spec.type) {
      case 'bool':
        if (typeof v === 'boolean') return v;
        throw invalid(`${where}: must be true or false`);
      case 'int': {
        const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
        if (!Number.isSafeInteger(n) || n < 0) throw invalid(`${where}: must be a whole number`);
        return n;
      }
      case 'duration': {
        const ms =
          typeof v === 'string' ? parseDuration(v) : typeof v === 'number' && v === 0 ? 0 : undefined;
        if (ms === undefined) throw invalid(`${where}: must be a duration such as 10s, 2m or 1h`);
        return ms;
      }
      case 'enum':
        if (typeof v === 'string' && spec.values!.includes(v)) return v;
        throw invalid(`${where}: must be one of ${spec.values!.join(', ')}`);
      case 'list': {
        const items = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : undefined;
        if (!items || !items.every((i) => typeof i === 'string'))
          throw invalid(`${where}: must be a comma-separated list`);
        return (items as string[]).map((i) => i.trim()).filter((i) => i !== '');
      }
      case 'path':
        if (typeof v !== 'string' || v === '') throw invalid(`${where}: must be a file path`);
        checkReadable(v, where);
        return v;
      case 'string':
        if (typeof v !== 'string') throw invalid(`${where}: must be a string`);
        return v;
    }
  };
  if (spec.repeatable) {
    const list = Array.isArray(raw) ? raw : [raw];
    return list.map((v) => one(v));
  }
  if (Array.isArray(raw) && spec.type !== 'list') throw invalid(`${where}: may be given only once`);
  return one(raw);
}

/** The parser's first line, with the line and column wherever the parser left them out. */
function yamlProblem(error: YAMLError | undefined): string | undefined {
  if (error === undefined) return undefined;
  const text = error.message.split('\n')[0]!.replace(/:$/, '');
  const at = error.linePos?.[0];
  return at === undefined || / at line \d+, column \d+/.test(text)
    ? text
    : `${text} at line ${at.line}, column ${at.col}`;
}

function readConfigFile(path: string, specs: readonly OptionSpec[]): Map<string, Raw> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw invalid(`--config: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const lineCounter = new LineCounter();
  const parsed = parseDocument(text, { ...GO_YAML_OPTIONS, lineCounter });
  const problem = yamlProblem(parsed.errors[0]) ?? mergeOrderProblem(parsed, lineCounter);
  if (problem !== undefined) throw invalid(`${path}: not valid YAML: ${problem}`);
  let doc: unknown;
  try {
    doc = parsed.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw invalid(
      `${path}: not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    );
  }
  if (doc === null || doc === undefined) return new Map();
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw invalid(`${path}: must be a mapping of setting names to values`);
  const out = new Map<string, Raw>();
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const spec = specs.find((s) => s.name === key);
    if (!spec || key === 'config') throw invalid(`${path}: ${key}: unknown setting`);
    out.set(key, (typeof value === 'number' && spec.type !== 'int' ? String(value) : value) as Raw);
  }
  return out;
}

function checkIssuers(issuers: readonly string[], origin: string): void {
  const seen = new Set<string>();
  for (const iss of issuers) {
    if (iss === '') throw invalid(`${origin}: service-account-issuer should not be an empty string`);
    if (seen.has(iss)) throw invalid(`${origin}: service-account-issuer "${iss}" is already specified`);
    seen.add(iss);
    if (iss.includes(':') && !URL.canParse(iss))
      throw invalid(`${origin}: service-account-issuer "${iss}" is not a valid URL`);
  }
}

const warnedDeprecated = new Set<string>();

/**
 * Once per server and name: a deprecated flag still works and says what replaces it. A
 * `--workers` worker reads the same argv the primary already warned about.
 */
function warnDeprecated(name: string, replacement: string): void {
  if (warnedDeprecated.has(name) || cluster.isWorker) return;
  warnedDeprecated.add(name);
  process.stderr.write(`tokenwarden: warning: --${name} is deprecated, use --${replacement}\n`);
}

/**
 * argv (after the command name) and the optional YAML file → ResolvedConfig. Every
 * error names the flag, or the file and key, and maps to exit code 2.
 */
export function loadConfig(command: CommandName, argv: readonly string[]): ResolvedConfig {
  const specs = optionsFor(command);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(
          specs.map((s) => [
            s.name,
            {
              type: s.type === 'bool' ? ('boolean' as const) : ('string' as const),
              multiple: Boolean(s.repeatable),
            },
          ]),
        ),
      },
    });
  } catch (err) {
    throw invalid((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const flags = parsed.values as Record<string, Raw>;
  const configPath = flags.config as string | undefined;
  if (configPath !== undefined) checkReadable(configPath, '--config');
  const file = configPath ? readConfigFile(configPath, specs) : new Map<string, Raw>();

  const origin: Origin = (name) => (flags[name] !== undefined ? `--${name}` : `${configPath}: ${name}`);
  const values = new Map<string, unknown>();
  for (const spec of specs) {
    if (spec.name === 'config' || spec.deprecatedAliasOf !== undefined) continue;
    const raw = flags[spec.name] ?? file.get(spec.name);
    if (raw === undefined) {
      const fallback = spec.defaultFor?.[command] ?? spec.default;
      if (fallback !== undefined)
        values.set(spec.name, typed(spec, fallback as Raw, `default of --${spec.name}`));
      continue;
    }
    values.set(spec.name, typed(spec, raw, origin(spec.name)));
  }
  for (const alias of specs) {
    if (alias.deprecatedAliasOf === undefined) continue;
    const raw = flags[alias.name] ?? file.get(alias.name);
    if (raw === undefined) continue;
    warnDeprecated(alias.name, alias.deprecatedAliasOf);
    const target = specs.find((s) => s.name === alias.deprecatedAliasOf)!;
    const given = typed(target, raw, origin(alias.name)) as string[];
    values.set(target.name, [...((values.get(target.name) as string[] | undefined) ?? []), ...given]);
  }
  const get = <T>(name: string, fallback: T): T => (values.has(name) ? (values.get(name) as T) : fallback);

  const issuers = get<string[]>('service-account-issuer', []);
  checkIssuers(issuers, origin('service-account-issuer'));
  const apiAudiences = get<string[] | undefined>('api-audiences', undefined);
  const cert = get<string | undefined>('tls-cert-file', undefined);
  const key = get<string | undefined>('tls-private-key-file', undefined);
  if ((cert === undefined) !== (key === undefined)) {
    throw invalid('--tls-cert-file and --tls-private-key-file must be given together');
  }
  const minVersion = tlsMinVersion(get('tls-min-version', 'VersionTLS12'))!;
  const cipherNames = get<string[]>('tls-cipher-suites', []);
  const suites = opensslCiphers(cipherNames);
  if ('unknown' in suites)
    throw invalid(
      `${origin('tls-cipher-suites')}: unknown or unsupported cipher suite ${JSON.stringify(suites.unknown)}`,
    );
  const tlsPolicy: TlsPolicy =
    cipherNames.length > 0 ? { minVersion, ciphers: suites.ciphers } : { minVersion };
  const port = get('secure-port', 8443);
  if (port > 65535) throw invalid(`${origin('secure-port')}: must be at most 65535`);
  const endpointsPort = values.has('proxy-endpoints-port')
    ? (values.get('proxy-endpoints-port') as number)
    : undefined;
  if (endpointsPort !== undefined && endpointsPort > 65535)
    throw invalid(`${origin('proxy-endpoints-port')}: must be at most 65535`);
  if (endpointsPort !== undefined && endpointsPort !== 0 && endpointsPort === port)
    throw invalid(`${origin('proxy-endpoints-port')}: must differ from --secure-port`);
  const cacheSize = get('cache-size', 10000);
  if (cacheSize < 1) throw invalid(`${origin('cache-size')}: must be at least 1`);
  const maxRequestBytes = get('max-request-bytes', 131072);
  if (maxRequestBytes < 1024) throw invalid(`${origin('max-request-bytes')}: must be at least 1024`);

  const workers = workerCount(get('workers', '1'), origin('workers'));

  const jwksUris = issuerBound(
    get<string[]>('service-account-jwks-uri', []),
    issuers,
    origin('service-account-jwks-uri'),
  );
  for (const u of jwksUris) {
    if (!URL.canParse(u.value) || new URL(u.value).protocol !== 'https:') {
      throw invalid(`${origin('service-account-jwks-uri')}: "${u.value}" is not an https URL`);
    }
  }
  const jwksCaFiles = issuerBound(
    get<string[]>('service-account-jwks-ca-file', []),
    issuers,
    origin('service-account-jwks-ca-file'),
  );
  const jwksTokenFiles = issuerBound(
    get<string[]>('service-account-jwks-token-file', []),
    issuers,
    origin('service-account-jwks-token-file'),
  );
  for (const f of jwksCaFiles) checkReadable(f.value, origin('service-account-jwks-ca-file'));
  for (const f of jwksTokenFiles) checkReadable(f.value, origin('service-account-jwks-token-file'));
  const requestHeaderCa = get<string | undefined>('requestheader-client-ca-file', undefined);
  const requestHeader: FrontProxyOptions | undefined =
    requestHeaderCa === undefined
      ? undefined
      : {
          clientCaFile: requestHeaderCa,
          allowedNames: get<string[]>('requestheader-allowed-names', []),
          usernameHeaders: get<string[]>('requestheader-username-headers', []),
          uidHeaders: get<string[]>('requestheader-uid-headers', []),
          groupHeaders: get<string[]>('requestheader-group-headers', []),
          extraHeaderPrefixes: get<string[]>('requestheader-extra-headers-prefix', []),
        };

  const config: ResolvedConfig = {
    command,
    positionals: parsed.positionals,
    help: flags.help === true,
    securePort: port,
    bindAddress: get('bind-address', '0.0.0.0'),
    ...(cert === undefined ? {} : { tlsCertFile: cert, tlsPrivateKeyFile: key }),
    ...(values.has('client-ca-file') ? { clientCaFile: values.get('client-ca-file') as string } : {}),
    serviceAccountIssuers: issuers,
    serviceAccountKeyFiles: get<string[]>('service-account-key-file', []),
    apiAudiences: defaultApiAudiences(apiAudiences, issuers),
    legacyTokens: get<LegacyTokens>('service-account-legacy-tokens', 'reject'),
    audiences: get<string[]>('audience', []),
    rbacPolicyFiles: get<string[]>('rbac-policy-file', []),
    tlsPolicy,
    authorizeCallers: get('authorize-callers', false),
    cacheTtlMs: get('cache-ttl', 120_000),
    cacheSize,
    negativeCacheTtlMs: get('negative-cache-ttl', 10_000),
    maxRequestBytes,
    shutdownDelayMs: get('shutdown-delay-duration', 0),
    shutdownTimeoutMs: get('shutdown-timeout', 30_000),
    logLevel: get('log-level', 'info'),
    gcDurationMetric: get('gc-duration-metric', false),
    workers,
    serviceAccountJwksUris: jwksUris,
    serviceAccountIssuerDiscovery: get('service-account-issuer-discovery', false),
    serviceAccountJwksCaFiles: jwksCaFiles,
    serviceAccountJwksTokenFiles: jwksTokenFiles,
    allowLoopbackKeySources: get('allow-loopback-key-sources', false),
    ...(values.has('authentication-config')
      ? { authenticationConfigFile: values.get('authentication-config') as string }
      : {}),
    ...(values.has('token-auth-file') ? { tokenAuthFile: values.get('token-auth-file') as string } : {}),
    ...(requestHeader ? { requestHeader } : {}),
    proxy: {
      ...(values.has('upstream') ? { upstream: values.get('upstream') as string } : {}),
      ...(values.has('upstream-ca-file') ? { upstreamCaFile: values.get('upstream-ca-file') as string } : {}),
      passAuthorization: get('pass-authorization', false),
      ignorePaths: get<string[]>('ignore-path', []),
      allowServiceAccounts: get<string[]>('allow-service-account', []),
      allowNamespaces: get<string[]>('allow-namespace', []),
      allowGroups: get<string[]>('allow-group', []),
      ...(values.has('config-file') ? { rbacProxyConfigFile: values.get('config-file') as string } : {}),
      checkEndpoint: get('check-endpoint', false),
      ...(endpointsPort === undefined ? {} : { endpointsPort }),
    },
    ...liveSettings(
      values.get('kubeconfig') as string | undefined,
      get('in-cluster-config', false),
      get('live-staleness-bound', 300_000),
      {
        delegateUnknownTokens: get('delegate-unknown-tokens', false),
        delegateAuthorization: get('delegate-authorization', false),
      },
    ),
  };
  return Object.freeze(config);
}

function workerCount(value: string, where: string): number | 'auto' {
  if (value === 'auto') return value;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_WORKERS))
    throw invalid(`${where}: must be auto or a whole number from 1 to ${MAX_WORKERS}, not "${value}"`);
  return n;
}

function liveSettings(
  kubeconfigFile: string | undefined,
  inCluster: boolean,
  stalenessBoundMs: number,
  delegation: { readonly delegateUnknownTokens: boolean; readonly delegateAuthorization: boolean },
): Pick<ResolvedConfig, 'live'> {
  if (kubeconfigFile !== undefined && inCluster)
    throw invalid('--kubeconfig and --in-cluster-config exclude each other');
  if (kubeconfigFile === undefined && !inCluster) {
    const flag = delegation.delegateUnknownTokens
      ? '--delegate-unknown-tokens'
      : delegation.delegateAuthorization
        ? '--delegate-authorization'
        : undefined;
    if (flag)
      throw invalid(`${flag} asks the cluster: it needs live mode, --kubeconfig or --in-cluster-config`);
    return {};
  }
  return {
    live: { ...(kubeconfigFile === undefined ? {} : { kubeconfigFile }), stalenessBoundMs, ...delegation },
  };
}

/**
 * Checks that make sense only for commands that verify tokens. With `authorizationOnly`
 * (serve with RBAC files), naming no identity source at all is allowed: the service then
 * answers SubjectAccessReviews and authenticates no token.
 */
export function requireTokenSettings(config: ResolvedConfig, authorizationOnly = false): void {
  const saKeys =
    config.serviceAccountKeyFiles.length > 0 ||
    config.serviceAccountJwksUris.length > 0 ||
    config.serviceAccountIssuerDiscovery;
  // Live mode without a key source of its own takes the apiserver's issuer and keys.
  if (config.live && !saKeys) return;
  const otherSources = config.authenticationConfigFile !== undefined || config.tokenAuthFile !== undefined;
  if (authorizationOnly && !saKeys && !otherSources && config.serviceAccountIssuers.length === 0) return;
  // Service-account settings are required unless another identity source stands alone.
  if (!otherSources || saKeys || config.serviceAccountIssuers.length > 0) {
    if (config.serviceAccountIssuers.length === 0)
      throw invalid('--service-account-issuer is a required flag');
    if (!saKeys) throw invalid('--service-account-key-file is a required flag');
  }
}
