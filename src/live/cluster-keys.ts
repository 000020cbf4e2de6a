import type { RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { isObject, own } from '../json.js';
import { MAX_DISCOVERY_BYTES } from '../keys/discovery.js';
import { FetchError, fetchDocument, type ClientCredentials, type SourceFetchOptions } from '../keys/fetch.js';
import { loadJwks, RemoteKeySource, type RemoteLoad, type RemoteTiming } from '../keys/jwks.js';

export interface ClusterKeySourceOptions extends RemoteTiming {
  /**
   * Issuers configured by hand (`--service-account-issuer`): the apiserver's must be one
   * of them. Empty, the apiserver's own issuer is adopted, whatever it is.
   */
  readonly issuers: readonly string[];
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly autoStart?: boolean;
  readonly random?: () => number;
}

/** The keys of the cluster's own service-account issuer, and that issuer once known. */
export class ClusterKeySource extends RemoteKeySource {
  private readonly discovery: { issuer?: string; readonly listeners: Set<(issuer: string) => void> };

  constructor(kc: KubeConfig, options: ClusterKeySourceOptions) {
    // Filled by loads, which may start inside super(): so a holder made before it.
    const discovery = { issuer: undefined as string | undefined, listeners: new Set<(i: string) => void>() };
    const server = kc.getCurrentCluster()?.server.replace(/\/+$/, '') ?? '';
    // The apiserver is the operator's own choice of host (the kubeconfig names it), so
    // loopback is allowed; metadata and link-local addresses stay refused (address-policy.ts).
    const fetchOptions: SourceFetchOptions = {
      allowLoopback: true,
      allowInsecureHttp: true,
      client: () => credentialsOf(kc),
    };
    const timeoutMs = options.timeoutMs ?? 10_000;
    const load = async (signal: AbortSignal): Promise<RemoteLoad> => {
      const deadline = Date.now() + timeoutMs;
      const doc = await fetchDocument(`${server}/.well-known/openid-configuration`, {
        ...fetchOptions,
        timeoutMs,
        maxBytes: MAX_DISCOVERY_BYTES,
        signal,
      });
      const issuer = issuerOf(doc.body, options.issuers);
      // Always the apiserver's own path, never the document's jwks_uri: that names the
      // issuer's public URL, which a pod often cannot reach, while the apiserver serves
      // the same keys here (kube-apiserver's ServiceAccountIssuerDiscovery handlers).
      const loaded = await loadJwks(
        `${server}/openid/v1/jwks`,
        { ...fetchOptions, timeoutMs: Math.max(1, deadline - Date.now()) },
        signal,
      );
      const before = discovery.issuer;
      discovery.issuer = issuer;
      if (before !== undefined && before !== issuer) for (const l of discovery.listeners) l(issuer);
      return loaded;
    };
    super({ ...options, name: 'cluster', load });
    this.discovery = discovery;
  }

  /** The issuer the apiserver's discovery document names; undefined until keys first loaded. */
  issuer(): string | undefined {
    return this.snapshot() === undefined ? undefined : this.discovery.issuer;
  }

  /**
   * Called when a later load finds the apiserver naming another issuer (it was restarted
   * with new flags); the first discovery is announced by onChange, with the first keys.
   */
  onIssuerChange(listener: (issuer: string) => void): () => void {
    this.discovery.listeners.add(listener);
    return () => this.discovery.listeners.delete(listener);
  }
}

/** The `issuer` of the apiserver's discovery document, checked against those configured. */
export function issuerOf(text: string, configured: readonly string[]): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Never the parser's message: V8 quotes the input.
    throw new FetchError('invalid-document', 'the discovery document is not JSON');
  }
  const issuer = isObject(value) ? own(value, 'issuer') : undefined;
  if (typeof issuer !== 'string' || issuer === '')
    throw new FetchError('invalid-document', 'the discovery document has no issuer');
  if (configured.length > 0 && !configured.includes(issuer))
    throw new FetchError(
      'invalid-document',
      'the discovery document names another issuer than those configured',
    );
  return issuer;
}

/** What client-node would present to the apiserver: the kubeconfig user's certificate or token, and its CA. */
async function credentialsOf(kc: KubeConfig): Promise<ClientCredentials> {
  const opts: RequestOptions = {};
  try {
    await kc.applyToHTTPSOptions(opts);
  } catch {
    throw new FetchError('credential', 'the kubeconfig user has no usable credential');
  }
  const headers = (opts.headers ?? {}) as Record<string, string | undefined>;
  const authorization =
    headers.Authorization ??
    headers.authorization ??
    (opts.auth ? `Basic ${Buffer.from(opts.auth).toString('base64')}` : undefined);
  return {
    ...(opts.ca === undefined ? {} : { ca: opts.ca }),
    ...(opts.cert === undefined ? {} : { cert: opts.cert }),
    ...(opts.key === undefined ? {} : { key: opts.key }),
    ...(opts.servername === undefined ? {} : { servername: opts.servername }),
    ...(opts.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: opts.rejectUnauthorized }),
    ...(authorization === undefined ? {} : { authorization }),
  };
}
