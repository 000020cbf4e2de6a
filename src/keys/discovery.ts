import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { isObject, own } from '../json.js';
import { namesLoopbackLiterally } from './address-policy.js';
import { FetchError, fetchDocument, sourceFetchOptions, type SourceFetchOptions } from './fetch.js';
import { loadJwks, RemoteKeySource, sourceNameForUrl, type RemoteLoad, type RemoteTiming } from './jwks.js';

/** A discovery document is small; this bounds what a hostile one costs. */
export const MAX_DISCOVERY_BYTES = 64 * 1024;

export interface DiscoverySourceOptions extends RemoteTiming, SourceFetchOptions {
  /** The issuer exactly as configured; the document's `issuer` must equal it byte for byte. */
  readonly issuer: string;
  /**
   * Where the discovery document lives, when not at `issuer + /.well-known/openid-configuration`
   * (AuthenticationConfiguration's `discoveryURL`, used as given).
   */
  readonly discoveryUrl?: string;
  readonly name?: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly autoStart?: boolean;
  readonly random?: () => number;
}

/** OIDC Discovery 1.0 §4: the issuer without a trailing slash, then the well-known path. */
export function discoveryUrlFor(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

/**
 * Reads a discovery document and returns its `jwks_uri`, checking what OIDC Discovery
 * §4.3 asks, and an SSRF-safe fetch needs: `issuer` equals the configured issuer exactly (no slash,
 * case or scheme normalisation), and `jwks_uri` is https (unless plain HTTP was allowed).
 */
export function parseDiscoveryDocument(text: string, issuer: string, allowInsecureHttp = false): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Never the parser's message: V8 quotes the input.
    throw new FetchError('invalid-document', 'the discovery document is not JSON');
  }
  if (!isObject(value)) {
    throw new FetchError('invalid-document', 'the discovery document is not a JSON object');
  }
  const docIssuer = own(value, 'issuer');
  if (typeof docIssuer !== 'string')
    throw new FetchError('invalid-document', 'the discovery document has no issuer');
  if (docIssuer !== issuer) {
    throw new FetchError(
      'invalid-document',
      'the discovery document names another issuer than the one configured',
    );
  }
  const jwksUri = own(value, 'jwks_uri');
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) {
    throw new FetchError('invalid-document', 'the discovery document has no valid jwks_uri');
  }
  const protocol = new URL(jwksUri).protocol;
  if (protocol !== 'https:' && !(allowInsecureHttp && protocol === 'http:')) {
    throw new FetchError('invalid-document', 'the jwks_uri of the discovery document is not https');
  }
  return jwksUri;
}

/** Whether two URLs share scheme, host and port (the WHATWG origin: default ports and host case normalised). */
function sameOrigin(a: string, b: string): boolean {
  return new URL(a).origin === new URL(b).origin;
}

/**
 * Keys found through OIDC discovery: issuer → discovery document → `jwks_uri` → JWKS.
 * The jwks_uri is remembered and discovery runs again only after a failed load, so a
 * healthy issuer costs one request per refresh. The same CA and address policy serve both
 * requests. The bearer token goes only to the origin it was configured for, the
 * discovery URL's: a jwks_uri there gets it (kube-apiserver's own `/openid/v1/jwks` needs
 * it unless anonymous access is granted), a jwks_uri on any other origin (a CDN, a
 * bucket) is fetched without it, since the document that names it is no authority over
 * where a credential may go.
 */
export function createDiscoveryKeySource(options: DiscoverySourceOptions): RemoteKeySource {
  const url = options.discoveryUrl ?? discoveryUrlFor(options.issuer);
  const timeoutMs = options.timeoutMs ?? 10_000;
  // The jwks_uri request inherits the discovery URL's loopback permission: the operator
  // pointed this issuer at loopback, and refused kinds (metadata, link-local) stay refused.
  const fetchOptions = sourceFetchOptions({
    ...options,
    allowLoopback: options.allowLoopback === true || namesLoopbackLiterally(url),
  });
  let jwksUri: string | undefined;
  const load = async (signal: AbortSignal): Promise<RemoteLoad> => {
    const deadline = Date.now() + timeoutMs;
    if (jwksUri === undefined) {
      const doc = await fetchDocument(url, {
        ...fetchOptions,
        timeoutMs,
        maxBytes: MAX_DISCOVERY_BYTES,
        signal,
      });
      jwksUri = parseDiscoveryDocument(doc.body, options.issuer, options.allowInsecureHttp);
    }
    const credentials = sameOrigin(jwksUri, url)
      ? fetchOptions
      : { ...fetchOptions, bearerTokenFile: undefined };
    try {
      // One deadline covers both requests.
      return await loadJwks(
        jwksUri,
        { ...credentials, timeoutMs: Math.max(1, deadline - Date.now()) },
        signal,
      );
    } catch (err) {
      jwksUri = undefined;
      throw err;
    }
  };
  return new RemoteKeySource({
    ...options,
    name: options.name ?? sourceNameForUrl('discovery', options.issuer),
    load,
  });
}
