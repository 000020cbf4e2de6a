import { isUtf8 } from 'node:buffer';
import { TokenwardenError } from '../errors.js';
import { goTrimSpace, isGoSpaceCode } from '../go-space.js';
import {
  failure,
  headerValues,
  NO_OPINION,
  type AuthnResult,
  type RequestAuthenticator,
  type TokenAuthenticator,
} from './authenticator.js';

/** Kube's answer to a bearer token nobody claims (bearertoken.go `invalidToken`). */
export const INVALID_BEARER_TOKEN = 'invalid bearer token';

/**
 * Kube's bearer-token parsing (bearertoken.go): `strings.TrimSpace`, split on single spaces
 * into at most three parts, scheme `bearer` in any case, the token is the second part
 * only. An empty second part (`"Bearer  x"`) is no credential at all.
 */
export function parseBearer(authorization: string): string | undefined {
  const auth = goTrimSpace(authorization);
  if (auth === '') return undefined;
  const firstSpace = auth.indexOf(' ');
  if (firstSpace < 0 || auth.slice(0, firstSpace).toLowerCase() !== 'bearer') return undefined;
  const rest = auth.slice(firstSpace + 1);
  const secondSpace = rest.indexOf(' ');
  const token = secondSpace < 0 ? rest : rest.slice(0, secondSpace);
  return token === '' ? undefined : token;
}

/**
 * The credential of `Authorization: Bearer <token>`, exactly as `parseBearer` reads that
 * header (kube reviews a TokenReview's token this way). A token with no space in it that
 * does not end in a Go space (every real token) is its own credential, found without
 * building the header and scanning it three times; any other goes through `parseBearer`.
 */
export function bearerCredential(token: string): string | undefined {
  const n = token.length;
  if (n > 0 && !isGoSpaceCode(token.charCodeAt(n - 1)) && token.indexOf(' ') === -1) return token;
  return parseBearer(`Bearer ${token}`);
}

/**
 * Kube's `bearertoken` request authenticator over a token authenticator: no
 * `Authorization` or no bearer credential → not mine; a token nobody claims → the error
 * `invalid bearer token`, as kube. Two `Authorization` lines are refused outright
 * (which one a proxy in front would pass on is unknowable). `audiences` are the API audiences, so callers share cache entries with
 * TokenReviews.
 */
export function bearerRequestAuthenticator(
  tokens: TokenAuthenticator,
  audiences: readonly string[],
): RequestAuthenticator {
  return {
    async authenticateRequest(request): Promise<AuthnResult> {
      const values = headerValues(request, 'authorization');
      if (values.length === 0) return NO_OPINION;
      if (values.length > 1)
        return failure(new TokenwardenError('ERR_TOKEN_MALFORMED', INVALID_BEARER_TOKEN));
      // Node hands header bytes over as latin1; Go trims and compares them as UTF-8.
      const bytes = Buffer.from(values[0]!, 'latin1');
      const token = parseBearer(bytes.toString('utf8'));
      if (token === undefined) return NO_OPINION;
      // A byte that is not UTF-8 became U+FFFD above: kube's token holds the byte itself, which no authenticator knows.
      if (token.includes('\ufffd') && !isUtf8(bytes))
        return failure(new TokenwardenError('ERR_TOKEN_INVALID', INVALID_BEARER_TOKEN));
      const result = await tokens.authenticateToken(token, audiences);
      if (result.outcome === 'no-opinion')
        return failure(new TokenwardenError('ERR_TOKEN_INVALID', INVALID_BEARER_TOKEN));
      return result;
    },
  } satisfies RequestAuthenticator;
}
