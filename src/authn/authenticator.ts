import type { TokenwardenError } from '../errors.js';
import type { UserInfo } from '../user.js';

/**
 * What an authenticator says about a credential, as kube's `(response, ok, err)`:
 * - `authenticated`: the credential is valid; `audiences` are the ones actually checked
 *   (requested ∩ token), empty when the authenticator is audience-agnostic.
 * - `no-opinion`: not mine (foreign issuer, not a JWT, no credential); the next
 *   authenticator in a union is asked.
 * - `error`: mine, but not acceptable; the message is what kube would say.
 */
export type AuthnResult = AuthnSuccess | AuthnNoOpinion | AuthnFailure;

export interface AuthnSuccess {
  readonly outcome: 'authenticated';
  readonly user: UserInfo;
  readonly audiences: readonly string[];
  /** Epoch seconds after which this answer must not be reused (the token's `exp`). */
  readonly expiresAt?: number;
  /**
   * Cluster objects this answer relied on (live mode), as dependency keys: a change to one
   * of them evicts the cached answer.
   */
  readonly dependsOn?: readonly string[];
  readonly ttlMs?: number;
}

/**
 * Every outcome may carry `ttlMs`: the longest a cache may keep it when that is shorter than
 * the cache's own TTL, 0 for never. The cluster's answers to delegated tokens carry kube's
 * delegated-authentication TTLs this way; local answers carry none.
 */
export interface AuthnNoOpinion {
  readonly outcome: 'no-opinion';
  readonly ttlMs?: number;
}

export interface AuthnFailure {
  readonly outcome: 'error';
  readonly error: TokenwardenError;
  readonly ttlMs?: number;
}

export const NO_OPINION: AuthnNoOpinion = Object.freeze({ outcome: 'no-opinion' });

export function failure(error: TokenwardenError, ttlMs?: number): AuthnFailure {
  return ttlMs === undefined ? { outcome: 'error', error } : { outcome: 'error', error, ttlMs };
}

/**
 * Authenticates a bearer token. `audiences` are the audiences the caller asked for
 * (a TokenReview's `spec.audiences`, else the API audiences); an empty list means the
 * authenticator applies its own implicit audiences. Implementations never throw for
 * bad input: garbage is `no-opinion` or `error`.
 */
export interface TokenAuthenticator {
  authenticateToken(token: string, audiences: readonly string[]): Promise<AuthnResult>;
  /**
   * The same answer, without a promise when it is at hand (a cache hit): a review answered
   * from memory then waits for no microtask. Optional; callers fall back to `authenticateToken`.
   */
  authenticateTokenNow?(token: string, audiences: readonly string[]): AuthnResult | Promise<AuthnResult>;
}

/**
 * `authenticateToken` for an authenticator that has `authenticateTokenNow`: the same answer,
 * always as a promise, and a throw as a rejection (the promise an in-flight answer already is
 * is handed out as it is).
 */
export function promisedAnswer(
  now: NonNullable<TokenAuthenticator['authenticateTokenNow']>,
): TokenAuthenticator['authenticateToken'] {
  return (token, audiences) => {
    try {
      const result = now(token, audiences);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (err) {
      return Promise.reject(err);
    }
  };
}

export function fromFunction(
  fn: (token: string, audiences: readonly string[]) => Promise<AuthnResult> | AuthnResult,
): TokenAuthenticator {
  return {
    authenticateToken: async (token, audiences) => fn(token, audiences),
  };
}

/**
 * What a request-level authenticator sees (kube's `authenticator.Request`): the request
 * headers and the TLS client certificate chain. Nothing here has been verified.
 */
export interface AuthnRequest {
  /**
   * Every header line, by lower-case name, each line its own entry: never comma-joined,
   * because kube reads `X-Remote-Group` one group per line (Node's `headersDistinct`).
   */
  readonly headers: Readonly<Record<string, readonly string[] | undefined>>;
  /** The client certificate chain as the client presented it, leaf first, DER; absent without one. */
  readonly peerCertificates?: readonly Buffer[];
}

/**
 * Authenticates a whole request (front-proxy headers, client certificate, bearer token),
 * kube's `authenticator.Request`. Same three outcomes as a TokenAuthenticator.
 */
export interface RequestAuthenticator {
  authenticateRequest(request: AuthnRequest): Promise<AuthnResult>;
}

/** All values of one header (lower-case name), read without touching the object prototype. */
export function headerValues(request: AuthnRequest, lowerCaseName: string): readonly string[] {
  return Object.hasOwn(request.headers, lowerCaseName) ? (request.headers[lowerCaseName] ?? []) : [];
}
