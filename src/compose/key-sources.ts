import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { createDiscoveryKeySource } from '../keys/discovery.js';
import { FileKeySource } from '../keys/file.js';
import { createJwksKeySource, type RemoteKeySource } from '../keys/jwks.js';
import type { KeySource } from '../keys/key-source.js';
import { MergedKeySource } from '../keys/merged.js';
import type { ServiceAccountOptions } from './options.js';

export interface ServiceAccountKeys {
  /** Each issuer → the keys that verify its tokens, and nothing else (an issuer never borrows another's key). */
  readonly issuers: ReadonlyMap<string, KeySource>;
  /** The key files, which also verify legacy secret-based tokens. */
  readonly fileKeys?: KeySource;
  /** Every source made or given here, for change notices, readiness and close. */
  readonly sources: readonly KeySource[];
  /** The remote ones among them, which load in the background. */
  readonly remote: readonly RemoteKeySource[];
}

/**
 * Per-issuer key sources: the key files serve every issuer (as kube-apiserver's
 * `--service-account-key-file`s do); a JWKS URL serves the issuer it is bound to or every
 * issuer; discovery gives its issuer its own source; an issuer with keys given in
 * `issuerKeys` uses those alone. A token of issuer A is verified only with A's keys. Key
 * files load synchronously here, so a bad file fails the start.
 */
export function buildServiceAccountKeys(
  options: ServiceAccountOptions,
  deps: { readonly clock: Clock; readonly logger?: Logger; readonly watch: boolean },
): ServiceAccountKeys {
  const { keys } = options;
  const log = deps.logger ? { logger: deps.logger } : {};
  const sources: KeySource[] = [];
  const remote: RemoteKeySource[] = [];
  let fileKeys: FileKeySource | undefined;
  if (keys.keyFiles && keys.keyFiles.length > 0) {
    fileKeys = new FileKeySource({ paths: keys.keyFiles, watch: deps.watch, ...log });
    sources.push(fileKeys);
  }
  for (const s of keys.issuerKeys?.values() ?? []) if (!sources.includes(s)) sources.push(s);

  const shared: KeySource[] = fileKeys ? [fileKeys] : [];
  const perIssuer = new Map<string, KeySource[]>();
  const add = (iss: string, s: KeySource): void => {
    const list = perIssuer.get(iss) ?? [];
    list.push(s);
    perIssuer.set(iss, list);
  };
  const common = { clock: deps.clock, allowLoopback: keys.allowLoopback ?? false, ...log };
  const fetchWith = (o: { ca?: string; bearerTokenFile?: string }) => ({
    ...(o.ca === undefined ? {} : { ca: o.ca }),
    ...(o.bearerTokenFile === undefined ? {} : { bearerTokenFile: o.bearerTokenFile }),
  });
  for (const u of keys.jwksUrls ?? []) {
    const source = createJwksKeySource({ url: u.url, ...common, ...fetchWith(u) });
    remote.push(source);
    if (u.issuer === undefined) shared.push(source);
    else add(u.issuer, source);
  }
  for (const d of keys.discovery ?? []) {
    const source = createDiscoveryKeySource({ issuer: d.issuer, ...common, ...fetchWith(d) });
    remote.push(source);
    add(d.issuer, source);
  }
  sources.push(...remote);

  const issuers = new Map<string, KeySource>(keys.issuerKeys ?? []);
  for (const iss of options.issuers) {
    if (issuers.has(iss)) continue;
    const members = [...shared, ...(perIssuer.get(iss) ?? [])];
    if (members.length === 1) issuers.set(iss, members[0]!);
    else if (members.length > 1) issuers.set(iss, new MergedKeySource(`issuer:${iss}`, members));
  }
  return { issuers, ...(fileKeys ? { fileKeys } : {}), sources, remote };
}
