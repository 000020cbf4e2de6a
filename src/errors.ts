/**
 * Every failure tokenwarden reports carries a stable code from one union, so callers
 * can `switch (err.code)` instead of matching message text. The message is the text a
 * Kubernetes client may see (modelled on kube-apiserver's wording); it never contains
 * token material.
 */
export type ErrorCode =
  // a token that claims one of our issuers but is not acceptable
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_SIGNATURE'
  | 'ERR_TOKEN_NO_KEY'
  | 'ERR_TOKEN_AUDIENCE'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_ISSUED_IN_FUTURE'
  | 'ERR_TOKEN_CLAIMS'
  | 'ERR_TOKEN_LEGACY_REFUSED'
  | 'ERR_TOKEN_INVALID'
  // live mode: the token's service account, secret, pod or node is gone or replaced
  | 'ERR_TOKEN_BOUND_OBJECT'
  // infrastructure: never cached
  | 'ERR_KEYS_UNAVAILABLE'
  | 'ERR_INTERNAL'
  | 'ERR_CLUSTER_UNAVAILABLE'
  // start-up and reload
  | 'ERR_CONFIG_INVALID'
  | 'ERR_KEY_FILE'
  | 'ERR_POLICY_INVALID'
  | 'ERR_SERVING_CERT'
  | 'ERR_LISTEN'
  // requests that are not reviews at all
  | 'ERR_REQUEST_INVALID';

const TRANSIENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ERR_KEYS_UNAVAILABLE',
  'ERR_INTERNAL',
  'ERR_CLUSTER_UNAVAILABLE',
]);

export class TokenwardenError extends Error {
  readonly code: ErrorCode;
  /** A transient error depends on the state of the service, not on the token: never cache it. */
  readonly transient: boolean;

  /**
   * A finer reason than kube's wording, for `tokenwarden verify` and debug logs; like
   * the message it never contains token material.
   */
  readonly detail: string | undefined;
  /**
   * The single messages an aggregate is made of (kube flattens nested aggregates);
   * `[message]` for a plain error.
   */
  readonly parts: readonly string[];

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; detail?: string; parts?: readonly string[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TokenwardenError';
    this.code = code;
    this.transient = TRANSIENT.has(code);
    this.detail = options?.detail;
    this.parts = options?.parts ?? [message];
  }
}

export function isTokenwardenError(err: unknown): err is TokenwardenError {
  return err instanceof TokenwardenError;
}

/**
 * Kube's `utilerrors.NewAggregate(...).Error()`: one error prints bare, several are
 * de-duplicated by message and printed as `[m1, m2]`.
 */
export function aggregateMessage(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  if (unique.length === 1) return unique[0]!;
  return `[${unique.join(', ')}]`;
}
