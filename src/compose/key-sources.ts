import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { createDiscoveryKeySource } from '../keys/discovery.js';
import { FileKeySource } from '../keys/file.js';
import { createJwksKeySource, type RemoteKeySource } from '../keys/jwks.js';
import type { KeySource } from '../keys/key-source.js';
import { MergedKeySource } from '../keys/merged.js';
import type { ClusterKeySource } from '../live/cluster-keys.js';
import { liveParts } from './live-parts.js';
import type { ServiceAccountOptions } from './options.js';

/** Which issuers are accepted, each with its keys; read per token, since the cluster's issuer is found at run time. */
export type IssuerKeys = Pick<ReadonlyMap<string, KeySource>, 'get' | 'has'>;

export interface ServiceAccountKeys {
  /** Each issuer → the keys that verify its tokens, and nothing else (an issuer never borrows another's key). */
  readonly issuers: IssuerKeys;
  /**
   * What verifies legacy secret-based tokens: the key files (kube signs those with the same
   * key), or without them the cluster's keys, which the apiserver's JWKS serves from its own key files.
   */
  readonly legacyKeys?: KeySource;
  /** Every source made or given here, for change notices, readiness and close. */
  readonly sources: readonly KeySource[];
  /** The remote ones among them, which load in the background. */
  readonly remote: readonly RemoteKeySource[];
  /** Live mode without a key source of its own: the apiserver's issuer and keys. */
  readonly cluster?: ClusterKeySource;
}

/** Whether any service-account key source was given; live mode without one reads the cluster's. */
export function hasServiceAccountKeys(keys: ServiceAccountOptions['keys']): boolean {
  return (
    (keys.keyFiles?.length ?? 0) > 0 ||
    (keys.jwksUrls?.length ?? 0) > 0 ||
    (keys.discovery?.length ?? 0) > 0 ||
    (keys.issuerKeys?.size ?? 0) > 0
  );
}

/**
 * Per-issuer key sources: the key files serve every issuer (as kube-apiserver's
 * `--service-account-key-file`s do); a JWKS URL serves the issuer it is bound to or every
 * issuer; discovery gives its issuer its own source; an issuer with keys given in
 * `issuerKeys` uses those alone. A token of issuer A is verified only with A's keys. Key
 * files load synchronously here, so a bad file fails the start.
 *
 * Live mode (`cluster`) with no key source given: the keys come from the apiserver
 * (`/.well-known/openid-configuration`, `/openid/v1/jwks`). With issuers configured they
 * serve those issuers, and the apiserver's must be among them; with none, the apiserver's
 * issuer is the one accepted. Any key source given wins: nothing is read from the apiserver.
 */
export function buildServiceAccountKeys(
  options: ServiceAccountOptions,
  deps: {
    readonly clock: Clock;
    readonly logger?: Logger;
    readonly watch: boolean;
    readonly cluster?: KubeConfig;
  },
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
  const cluster =
    deps.cluster && !hasServiceAccountKeys(keys)
      ? new (liveParts().ClusterKeySource)(deps.cluster, { issuers: options.issuers, ...common })
      : undefined;
  if (cluster) {
    remote.push(cluster);
    shared.push(cluster);
  }
  sources.push(...remote);

  const issuers = new Map<string, KeySource>(keys.issuerKeys ?? []);
  for (const iss of options.issuers) {
    if (issuers.has(iss)) continue;
    const members = [...shared, ...(perIssuer.get(iss) ?? [])];
    if (members.length === 1) issuers.set(iss, members[0]!);
    else if (members.length > 1) issuers.set(iss, new MergedKeySource(`issuer:${iss}`, members));
  }
  return {
    issuers: cluster && options.issuers.length === 0 ? discoveredIssuer(cluster) : issuers,
    ...(fileKeys || cluster ? { legacyKeys: fileKeys ?? cluster } : {}),
    sources,
    remote,
    ...(cluster ? { cluster } : {}),
  };
}

/**
 * The apiserver's issuer alone. Before its discovery document has been read every issuer
 * is claimed, so that a token the cluster issued meets "keys not yet available" (a
 * transient error, never cached) rather than an answer that no authenticator knew it.
 */
function discoveredIssuer(cluster: ClusterKeySource): IssuerKeys {
  const claims = (iss: string): boolean => {
    const found = cluster.issuer();
    return found === undefined || found === iss;
  };
  return {
    has: claims,
    get: (iss) => (claims(iss) ? cluster : undefined),
  };
}
