import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { TokenwardenError } from '../errors.js';
import { createDiscoveryKeySource } from '../keys/discovery.js';
import { createJwksKeySource, type RemoteKeySource } from '../keys/jwks.js';
import type { KeySource, KeySourceHealth } from '../keys/key-source.js';
import { MergedKeySource } from '../keys/merged.js';
import type { HealthCheck } from '../http/ops.js';
import type { RequestAuthenticator, TokenAuthenticator } from '../authn/authenticator.js';
import { audienceAgnostic } from '../authn/audiences.js';
import { requestHeaderAuthenticator } from '../authn/request-header.js';
import { parseTokenFile, staticTokenAuthenticator } from '../authn/static-token.js';
import { parseCertificateBundle, x509Authenticator } from '../authn/x509.js';
import { watchFiles } from '../io/file-watch.js';
import { OidcAuthenticator } from '../authn/oidc/authenticator.js';
import { AuthenticationConfigError, parseAuthenticationConfiguration } from '../authn/oidc/config.js';
import { unionAuthenticator } from '../authn/union.js';
import type { IssuerBound, ResolvedConfig } from './load.js';

export interface IssuerSources {
  /** Each SA issuer → the keys that verify its tokens, and nothing else (B7). */
  readonly issuers: Map<string, KeySource>;
  /** The remote sources made here, for readiness, metrics and close. */
  readonly remote: readonly RemoteKeySource[];
}

function pickFor(bound: readonly IssuerBound[], issuer: string): string | undefined {
  return (bound.find((b) => b.issuer === issuer) ?? bound.find((b) => b.issuer === undefined))?.value;
}

function readCa(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TokenwardenError(
      'ERR_CONFIG_INVALID',
      `--service-account-jwks-ca-file: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
}

/**
 * Per-issuer key sources: the key files serve every SA issuer (as kube-apiserver's
 * `--service-account-key-file`s do); a `--service-account-jwks-uri` serves the issuer it
 * is bound to (`ISSUER=URL`) or every issuer; `--service-account-issuer-discovery` gives
 * each issuer its own discovery source. A token of issuer A is verified only with A's.
 */
export function buildIssuerKeySources(
  config: ResolvedConfig,
  options: { clock: Clock; logger?: Logger; fileKeys?: KeySource; existing?: ReadonlyMap<string, KeySource> },
): IssuerSources {
  const remote: RemoteKeySource[] = [];
  const shared: KeySource[] = options.fileKeys ? [options.fileKeys] : [];
  const perIssuer = new Map<string, KeySource[]>();
  const add = (iss: string, s: KeySource): void => {
    const list = perIssuer.get(iss) ?? [];
    list.push(s);
    perIssuer.set(iss, list);
  };
  const common = {
    clock: options.clock,
    allowLoopback: config.allowLoopbackKeySources,
    ...(options.logger ? { logger: options.logger } : {}),
  };
  for (const u of config.serviceAccountJwksUris) {
    const caIssuer = u.issuer ?? config.serviceAccountIssuers[0] ?? '';
    const ca = readCa(pickFor(config.serviceAccountJwksCaFiles, caIssuer));
    const tokenFile = pickFor(config.serviceAccountJwksTokenFiles, caIssuer);
    const source = createJwksKeySource({
      url: u.value,
      ...common,
      ...(ca === undefined ? {} : { ca }),
      ...(tokenFile === undefined ? {} : { bearerTokenFile: tokenFile }),
    });
    remote.push(source);
    if (u.issuer === undefined) shared.push(source);
    else add(u.issuer, source);
  }
  if (config.serviceAccountIssuerDiscovery) {
    for (const iss of config.serviceAccountIssuers) {
      const ca = readCa(pickFor(config.serviceAccountJwksCaFiles, iss));
      const tokenFile = pickFor(config.serviceAccountJwksTokenFiles, iss);
      const source = createDiscoveryKeySource({
        issuer: iss,
        ...common,
        ...(ca === undefined ? {} : { ca }),
        ...(tokenFile === undefined ? {} : { bearerTokenFile: tokenFile }),
      });
      remote.push(source);
      add(iss, source);
    }
  }
  const issuers = new Map<string, KeySource>(options.existing ?? []);
  for (const iss of config.serviceAccountIssuers) {
    if (issuers.has(iss)) continue;
    const members = [...shared, ...(perIssuer.get(iss) ?? [])];
    if (members.length === 1) issuers.set(iss, members[0]!);
    else if (members.length > 1) issuers.set(iss, new MergedKeySource(`issuer:${iss}`, members));
  }
  return { issuers, remote };
}

/**
 * A readiness line for one key source: not ready until it has loaded once; afterwards a
 * failed refresh keeps it ready (the last good keys serve) and says how old they are.
 * Notes are fixed words and numbers: never a URL, a path or a key (security.md §3.16).
 */
export function keySourceCheck(name: string, h: KeySourceHealth, nowMs: number): HealthCheck {
  if (!h.ready)
    return {
      name,
      ok: false,
      note: h.lastFailureReason ? `keys not loaded (${h.lastFailureReason})` : 'keys not loaded',
    };
  if (h.lastError === undefined) return { name, ok: true };
  const age =
    h.lastSuccess === undefined ? undefined : Math.max(0, Math.round((nowMs - h.lastSuccess) / 1000));
  const why = h.lastFailureReason ? `${h.lastFailureReason}; ` : '';
  return {
    name,
    ok: true,
    note: `last reload failed (${why}serving the last good keys${age === undefined ? '' : `, ${age}s old`})`,
  };
}

/** A file re-read when it changes; a bad reload keeps the last good value and says so in the log. */
function watchedFile<T>(
  path: string,
  parse: (text: string) => T,
  options: { watch: boolean; logger?: Logger; what: string },
): { get: () => T; close: () => void } {
  let lastText = readFileSync(path, 'utf8');
  let current = parse(lastText);
  const reload = (): void => {
    try {
      const text = readFileSync(path, 'utf8');
      if (text === lastText) return;
      current = parse(text);
      lastText = text;
      options.logger?.info({ what: options.what }, 'reloaded');
    } catch (err) {
      options.logger?.error(
        { what: options.what, err: err instanceof TokenwardenError ? err.message : 'unreadable' },
        'reload failed; keeping the last good version',
      );
    }
  };
  const w = options.watch ? watchFiles([path], reload) : undefined;
  return { get: () => current, close: () => w?.close() };
}

function readOrRefuse(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TokenwardenError(
      'ERR_CONFIG_INVALID',
      `${flag}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
}

export interface IdentitySources {
  /** Static tokens, first in kube's token union; audience-agnostic. */
  readonly staticTokens?: TokenAuthenticator;
  /** Request-level authenticators before the bearer token, in kube's order (request-header, x509). */
  readonly requestAuthenticators: readonly RequestAuthenticator[];
  close(): void;
}

/**
 * `--token-auth-file`, `--client-ca-file` (x509 identity) and the `--requestheader-*`
 * front-proxy settings. Each file is read now (an unreadable or invalid one fails the
 * start with exit 2) and, with `watch`, re-read when it changes.
 */
export function buildIdentitySources(
  config: ResolvedConfig,
  options: { clock: Clock; logger?: Logger; watch: boolean },
): IdentitySources {
  const closers: Array<() => void> = [];
  const log = options.logger ? { logger: options.logger } : {};
  let staticTokens: TokenAuthenticator | undefined;
  if (config.tokenAuthFile !== undefined) {
    const path = config.tokenAuthFile;
    readOrRefuse(path, '--token-auth-file');
    const table = watchedFile(path, (text) => parseTokenFile(text, '--token-auth-file'), {
      watch: options.watch,
      what: 'token-auth-file',
      ...log,
    });
    for (const w of table.get().warnings) options.logger?.warn({ what: 'token-auth-file' }, w);
    closers.push(table.close);
    staticTokens = audienceAgnostic(staticTokenAuthenticator(table.get), config.apiAudiences);
  }
  const requestAuthenticators: RequestAuthenticator[] = [];
  if (config.requestHeader) {
    const rh = config.requestHeader;
    readOrRefuse(rh.clientCaFile, '--requestheader-client-ca-file');
    const roots = watchedFile(
      rh.clientCaFile,
      (t) => parseCertificateBundle(t, '--requestheader-client-ca-file'),
      {
        watch: options.watch,
        what: 'requestheader-client-ca-file',
        ...log,
      },
    );
    closers.push(roots.close);
    requestAuthenticators.push(requestHeaderAuthenticator({ ...rh, roots: roots.get, clock: options.clock }));
  }
  if (config.clientCaFile !== undefined) {
    readOrRefuse(config.clientCaFile, '--client-ca-file');
    const roots = watchedFile(config.clientCaFile, (t) => parseCertificateBundle(t, '--client-ca-file'), {
      watch: options.watch,
      what: 'client-ca-file',
      ...log,
    });
    closers.push(roots.close);
    requestAuthenticators.push(x509Authenticator({ roots: roots.get, clock: options.clock }));
  }
  return {
    ...(staticTokens ? { staticTokens } : {}),
    requestAuthenticators,
    close: () => {
      for (const c of closers) c();
    },
  };
}

export interface JwtAuthenticators {
  /** The `jwt[]` issuers, one union, audience-agnostic as kube wraps them; absent when there are none. */
  readonly authenticator?: TokenAuthenticator;
  /** One discovery source per issuer, for readiness, metrics and close. */
  readonly remote: readonly RemoteKeySource[];
}

/**
 * One set of `jwt[]` authenticators from the text of an AuthenticationConfiguration. The
 * text is validated first, every CEL expression compiled, and a jwt issuer equal to a
 * service-account issuer refused (kube's disallowed issuers, kubernetes/kubernetes#123561):
 * any problem throws AuthenticationConfigError with kube's field path before a source is
 * made. Each issuer gets its own discovery source, trusting its `certificateAuthority`
 * (else the system roots) and honouring `discoveryURL`.
 */
export function jwtAuthenticatorsFromText(
  text: string,
  config: ResolvedConfig,
  options: { clock: Clock; logger?: Logger },
): JwtAuthenticators {
  const parsed = parseAuthenticationConfiguration(text, { disallowedIssuers: config.serviceAccountIssuers });
  const remote: RemoteKeySource[] = [];
  const members: TokenAuthenticator[] = [];
  for (const spec of parsed.jwt) {
    const keys = createDiscoveryKeySource({
      issuer: spec.issuer.url,
      ...(spec.issuer.discoveryURL === undefined ? {} : { discoveryUrl: spec.issuer.discoveryURL }),
      ...(spec.issuer.certificateAuthority === undefined ? {} : { ca: spec.issuer.certificateAuthority }),
      allowLoopback: config.allowLoopbackKeySources,
      clock: options.clock,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    remote.push(keys);
    members.push(new OidcAuthenticator({ spec, keys, clock: options.clock }));
  }
  if (members.length === 0) return { remote };
  return { authenticator: audienceAgnostic(unionAuthenticator(members), config.apiAudiences), remote };
}

/**
 * `--authentication-config` at start: an unreadable or invalid file fails the start
 * (exit 2), naming the file and kube's field path. Returns the text read, so a reload can
 * tell whether the file changed.
 */
export function loadJwtAuthenticators(
  path: string,
  config: ResolvedConfig,
  options: { clock: Clock; logger?: Logger },
): { text: string; set: JwtAuthenticators } {
  const text = readOrRefuse(path, '--authentication-config');
  try {
    return { text, set: jwtAuthenticatorsFromText(text, config, options) };
  } catch (err) {
    if (err instanceof AuthenticationConfigError) {
      throw new TokenwardenError('ERR_CONFIG_INVALID', `--authentication-config: ${path}: ${err.message}`);
    }
    throw err;
  }
}
