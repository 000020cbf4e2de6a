import { TokenwardenError } from '../errors.js';
import { goQuoteList } from '../go-quote.js';
import { NO_OPINION, type AuthnResult, type TokenAuthenticator } from './authenticator.js';

/** The audiences a review checks: those it names, else the implicit (API) audiences. */
export function targetAudiences(
  requested: readonly string[],
  implicit: readonly string[],
): readonly string[] {
  return requested.length > 0 ? requested : implicit;
}

/**
 * kube-apiserver's `--api-audiences` default: every service-account issuer. Frozen: the
 * token cache keeps a frozen list as it is rather than a shared copy looked up per answer.
 */
export function defaultApiAudiences(
  given: readonly string[] | undefined,
  issuers: readonly string[],
): readonly string[] {
  return Object.freeze([...(given && given.length > 0 ? given : issuers)]);
}

/** Every one of `want` is in `have`; a loop, as `every` with a closure made one per uncached token. */
function holdsAll(have: readonly string[], want: readonly string[]): boolean {
  for (const a of want) if (!have.includes(a)) return false;
  return true;
}

/**
 * Kube's audience rule (`authenticator.Audiences.Intersect` in jwt.go): the requested
 * audiences (else the implicit ones) that the token holds, in requested order, with
 * duplicates kept. A token without `aud` counts as holding the implicit audiences.
 * Empty intersection with non-empty implicit audiences is an error; with no implicit
 * audiences at all kube checks nothing.
 */
export function checkAudiences(
  tokenAudiences: readonly string[],
  requested: readonly string[],
  implicit: readonly string[],
): { ok: true; audiences: readonly string[] } | { ok: false; error: TokenwardenError } {
  const want = targetAudiences(requested, implicit);
  const have = tokenAudiences.length > 0 ? tokenAudiences : implicit;
  // The usual case, every wanted audience held, allocates nothing: the intersection is `want` itself.
  if (want.length > 0 && holdsAll(have, want)) return { ok: true, audiences: want };
  const result = want.filter((a) => have.includes(a));
  if (result.length === 0 && implicit.length > 0) {
    return {
      ok: false,
      error: new TokenwardenError(
        'ERR_TOKEN_AUDIENCE',
        `token audiences ${goQuoteList(have)} is invalid for the target audiences ${goQuoteList(want)}`,
      ),
    };
  }
  return { ok: true, audiences: result };
}

/**
 * Kube's audience-agnostic wrapper (audagnostic.go) for authenticators that know
 * nothing of audiences (static tokens, front-proxy headers): the requested audiences
 * must meet the API audiences (else not mine), and a success reports that intersection.
 * With nothing requested, the implicit audiences are what is checked.
 */
export function audienceAgnostic(inner: TokenAuthenticator, implicit: readonly string[]): TokenAuthenticator {
  return {
    async authenticateToken(token, requested): Promise<AuthnResult> {
      const want = targetAudiences(requested, implicit);
      // kube: implicit.Intersect(target), in the implicit audiences' order; nothing to check at all → no audiences.
      const auds = implicit.filter((a) => want.includes(a));
      if (want.length > 0 && auds.length === 0) return NO_OPINION;
      const result = await inner.authenticateToken(token, requested);
      if (result.outcome !== 'authenticated') return result;
      return { ...result, audiences: auds };
    },
  } satisfies TokenAuthenticator;
}
