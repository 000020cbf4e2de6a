import type { Clock } from '../../clock.js';
import { TokenwardenError, type ErrorCode } from '../../errors.js';
import type { KeySource } from '../../keys/key-source.js';
import { EXTRA_CREDENTIAL_ID, type UserInfo } from '../../user.js';
import { failure, NO_OPINION, type AuthnResult, type TokenAuthenticator } from '../authenticator.js';
import { goQuote, goQuoteList } from '../../go-quote.js';
import { hasGoSpace } from '../../go-space.js';
import {
  headerPolicyProblem,
  MAX_SIGNATURE_BYTES,
  payloadPolicyProblem,
  untrustedPayload,
  type UnverifiedToken,
} from '../jwt/gate.js';
import { verifyToken } from '../jwt/verify.js';
import {
  toCelClaims,
  toCelUser,
  toStringList,
  type CelBindingValue,
  type CompiledExpression,
} from '../../cel/index.js';
import { jsonTypeName, type JwtAuthenticatorSpec } from './config.js';
import { flatUser } from '../flat-user.js';
import {
  asAlgorithm,
  decodeIdToken,
  distributedClaimsProblem,
  NBF_LEEWAY_MS,
  parseSignedV2,
  unsupportedAlgorithm,
} from './go-oidc.js';

/**
 * One `jwt[]` entry of an AuthenticationConfiguration, as kube's
 * `plugin/pkg/authenticator/token/oidc` jwtAuthenticator: the unverified `iss` must equal
 * the issuer URL exactly (else no opinion), then go-oidc v2's checks in its order
 * (go-oidc.ts: the JWS, the algorithm, the signature, the claims' types, the audience for a
 * single one, expiry, nbf with one minute of leeway), the multi-audience check, then the claim mappings, required claims, claim validation rules
 * and user validation rules. Every error reads as kube's, prefixed `oidc: `.
 *
 * Not audience-aware: kube wraps the JWT authenticators in WrapAudienceAgnosticToken, and
 * so does the token chain (audienceAgnostic in audiences.ts).
 */
export interface OidcAuthenticatorOptions {
  readonly spec: JwtAuthenticatorSpec;
  /** The issuer's keys (discovery → JWKS); nothing of any other issuer. */
  readonly keys: KeySource;
  readonly clock: Clock;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Go's `%v` of a UTC time.Time: `2006-01-02 15:04:05.999999999 +0000 UTC`. */
export function goTime(ms: number): string {
  const d = new Date(ms);
  const frac = ms % 1000 === 0 ? '' : `.${pad(((ms % 1000) + 1000) % 1000, 3).replace(/0+$/, '')}`;
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac} +0000 UTC`;
}

/** Go's zero time.Time, which a missing `exp` decodes to. */
const GO_ZERO_TIME = '0001-01-01 00:00:00 +0000 UTC';

/** Go's `json.Unmarshal(claim, &s)` into a string: null leaves "", other types fail as Go says. */
function claimString(v: unknown): { ok: true; value: string } | { ok: false; error: string } {
  if (v === null) return { ok: true, value: '' };
  if (typeof v === 'string') return { ok: true, value: v };
  return { ok: false, error: `json: cannot unmarshal ${jsonTypeName(v)} into Go value of type string` };
}

/** kube's `stringOrArray`: a []string first (null items are ""), else a string. */
function claimStringOrArray(v: unknown): { ok: true; value: string[] } | { ok: false; error: string } {
  if (v === null) return { ok: true, value: [] };
  if (Array.isArray(v) && v.every((x) => x === null || typeof x === 'string')) {
    return { ok: true, value: v.map((x) => (x === null ? '' : (x as string))) };
  }
  const s = claimString(v);
  return s.ok ? { ok: true, value: [s.value] } : s;
}

const err = (code: ErrorCode, message: string): AuthnResult => failure(new TokenwardenError(code, message));

export class OidcAuthenticator implements TokenAuthenticator {
  private readonly issuer: string;
  private readonly audiences: ReadonlySet<string>;
  private readonly sortedAudiences: string;
  private readonly isOurs: (iss: string) => boolean;
  private readonly needsCelClaims: boolean;

  constructor(private readonly options: OidcAuthenticatorOptions) {
    const { spec } = options;
    this.issuer = spec.issuer.url;
    this.audiences = new Set(spec.issuer.audiences);
    this.sortedAudiences = goQuoteList([...this.audiences].sort());
    // kube's untrustedIssuer coalesces Google's legacy issuer with the https one.
    this.isOurs = (iss) =>
      iss === this.issuer || (iss === 'accounts.google.com' && this.issuer === 'https://accounts.google.com');
    const m = spec.claimMappings;
    this.needsCelClaims =
      m.username.kind === 'expression' ||
      m.groups.kind === 'expression' ||
      m.uid.kind === 'expression' ||
      m.extra.length > 0 ||
      spec.claimValidationRules.some((r) => r.kind === 'expression');
  }

  get issuerUrl(): string {
    return this.issuer;
  }

  /** Not audience-aware (kube wraps it audience-agnostic): the requested audiences are not read here. */
  async authenticateToken(token: string, _requested?: readonly string[]): Promise<AuthnResult> {
    const untrusted = untrustedPayload(token);
    if (!untrusted || !this.isOurs(untrusted.iss)) return NO_OPINION;
    const verify = (problem: string, code: ErrorCode): AuthnResult =>
      err(code, `oidc: verify token: ${problem}`);
    const malformedJwt = (detail: string): AuthnResult =>
      verify(`oidc: malformed jwt: ${detail}`, 'ERR_TOKEN_MALFORMED');

    // go-oidc v2's Verify: the JWS, the algorithm, the signature; then the claims.
    // go-jose would strip it: refused instead (README, "stricter": one token, one spelling).
    if (hasGoSpace(token)) return malformedJwt('token contains whitespace');
    const jws = parseSignedV2(token);
    if (typeof jws === 'string') return malformedJwt(jws);
    const headerSegment = token.slice(0, token.indexOf('.'));
    if (jws.signingInput.slice(0, jws.signingInput.indexOf('.')) !== headerSegment) {
      return malformedJwt('header: segment is not canonical base64url');
    }
    const policy = headerPolicyProblem(jws.header);
    if (policy !== undefined) return malformedJwt(`header: ${policy}`);
    const unsupported = unsupportedAlgorithm(jws.alg);
    if (unsupported !== undefined) return verify(unsupported, 'ERR_TOKEN_SIGNATURE');

    const alg = asAlgorithm(jws.alg);
    const verifiable =
      jws.canonicalSignature &&
      jws.signature.length > 0 &&
      jws.signature.length <= MAX_SIGNATURE_BYTES &&
      !Object.hasOwn(jws.header, 'crit');
    const t: UnverifiedToken = {
      alg: verifiable ? alg : undefined,
      kid: jws.kid === '' ? undefined : jws.kid,
      untrustedIssuer: untrusted.iss,
      untrustedClaims: untrusted.claims,
      claimsProblem: undefined,
      signingInput: jws.signingInput,
      signature: jws.signature,
    };
    const verdict = await verifyToken(this.options.keys, t);
    if (!verdict) return err('ERR_KEYS_UNAVAILABLE', 'oidc: authenticator not initialized');
    if (!verdict.ok) {
      return verify('failed to verify signature: failed to verify id token signature', 'ERR_TOKEN_SIGNATURE');
    }

    const payloadSegment = token.slice(token.indexOf('.') + 1, token.lastIndexOf('.'));
    const payloadPolicy = payloadPolicyProblem(payloadSegment, untrusted.text, untrusted.claims);
    if (payloadPolicy !== undefined) return malformedJwt(`claims: ${payloadPolicy}`);
    const id = decodeIdToken(untrusted.text);
    if (typeof id === 'string') return verify(`oidc: failed to unmarshal claims: ${id}`, 'ERR_TOKEN_CLAIMS');
    const distributed = distributedClaimsProblem(id);
    if (distributed !== undefined) return verify(distributed, 'ERR_TOKEN_CLAIMS');
    if (!this.isOurs(id.issuer)) {
      return verify(
        `oidc: id token issued by a different provider, expected ${goQuote(this.issuer)} got ${goQuote(id.issuer)}`,
        'ERR_TOKEN_CLAIMS',
      );
    }
    const single = this.audiences.size === 1;
    const audience = this.options.spec.issuer.audiences[0]!;
    if (single && !id.audience.includes(audience)) {
      return verify(
        `oidc: expected audience ${goQuote(audience)} got ${goQuoteList(id.audience)}`,
        'ERR_TOKEN_AUDIENCE',
      );
    }
    const now = this.options.clock.now();
    const expMs = id.expiry === undefined ? undefined : id.expiry * 1000;
    if (expMs === undefined || expMs < now) {
      return verify(
        `oidc: token is expired (Token Expiry: ${expMs === undefined ? GO_ZERO_TIME : goTime(expMs)})`,
        'ERR_TOKEN_EXPIRED',
      );
    }
    if (id.notBefore !== undefined && now + NBF_LEEWAY_MS < id.notBefore * 1000) {
      return verify(
        `oidc: current time ${goTime(now)} before the nbf (not before) time: ${goTime(id.notBefore * 1000)}`,
        'ERR_TOKEN_NOT_YET_VALID',
      );
    }
    if (!single && !id.audience.some((a) => this.audiences.has(a))) {
      return verify(
        `oidc: expected audience in ${this.sortedAudiences} got ${goQuoteList(id.audience)}`,
        'ERR_TOKEN_AUDIENCE',
      );
    }
    return this.mapVerified(untrusted.claims, expMs);
  }

  /** Everything below runs on claims whose signature has been verified. */
  private mapVerified(claims: Readonly<Record<string, unknown>>, expMs: number): AuthnResult {
    const { spec } = this.options;
    const m = spec.claimMappings;
    const has = (name: string): boolean => Object.hasOwn(claims, name);
    const celClaims: CelBindingValue | undefined = this.needsCelClaims ? toCelClaims(claims) : undefined;

    // kube fetches a distributed groups claim (OIDC Core §5.6.2); this does not, and says so rather than drop it.
    if (m.groups.kind === 'claim' && !has(m.groups.claim) && has('_claim_names')) {
      const names = claims._claim_names;
      if (names !== null && typeof names === 'object' && Object.hasOwn(names, m.groups.claim)) {
        return err(
          'ERR_TOKEN_CLAIMS',
          'oidc: could not expand distributed claims: distributed claims are not supported by tokenwarden',
        );
      }
    }

    // username
    let username: string;
    if (m.username.kind === 'expression') {
      const r = m.username.program.evaluate(celClaims!);
      if (!r.ok) {
        return err(
          'ERR_TOKEN_CLAIMS',
          `oidc: error evaluating username claim expression: expression '${m.username.program.expression}' resulted in error: ${r.error}`,
        );
      }
      if (typeof r.value !== 'string') {
        return err(
          'ERR_TOKEN_CLAIMS',
          'oidc: error evaluating username claim expression: username claim expression must return a string',
        );
      }
      if (r.value === '')
        return err('ERR_TOKEN_CLAIMS', 'oidc: empty username via CEL expression is not allowed');
      username = r.value;
    } else if (m.username.kind === 'claim') {
      const name = m.username.claim;
      const v = has(name) ? claimString(claims[name]) : { ok: false as const, error: 'claim not present' };
      if (!v.ok)
        return err('ERR_TOKEN_CLAIMS', `oidc: parse username claims ${JSON.stringify(name)}: ${v.error}`);
      if (name === 'email' && has('email_verified')) {
        const ev = claims.email_verified;
        if (ev !== null && typeof ev !== 'boolean') {
          return err(
            'ERR_TOKEN_CLAIMS',
            `oidc: parse 'email_verified' claim: json: cannot unmarshal ${jsonTypeName(ev)} into Go value of type bool`,
          );
        }
        if (ev !== true) return err('ERR_TOKEN_CLAIMS', 'oidc: email not verified');
      }
      username = m.username.prefix + v.value;
    } else {
      username = '';
    }

    // groups
    let groups: string[] = [];
    if (m.groups.kind === 'claim' && has(m.groups.claim)) {
      const v = claimStringOrArray(claims[m.groups.claim]);
      if (!v.ok) {
        return err(
          'ERR_TOKEN_CLAIMS',
          `oidc: parse groups claim ${JSON.stringify(m.groups.claim)}: ${v.error}`,
        );
      }
      const prefix = m.groups.prefix;
      groups = v.value.map((g) => prefix + g);
    } else if (m.groups.kind === 'expression') {
      const r = m.groups.program.evaluate(celClaims!);
      if (!r.ok) {
        return err(
          'ERR_TOKEN_CLAIMS',
          `oidc: error evaluating group claim expression: expression '${m.groups.program.expression}' resulted in error: ${r.error}`,
        );
      }
      const list = toStringList(r.value);
      if (!list.ok) {
        return err(
          'ERR_TOKEN_CLAIMS',
          'oidc: error evaluating group claim expression: expression must return a string or a list of strings',
        );
      }
      groups = list.values;
    }

    // uid
    let uid = '';
    if (m.uid.kind === 'claim') {
      const name = m.uid.claim;
      const v = has(name) ? claimString(claims[name]) : { ok: false as const, error: 'claim not present' };
      if (!v.ok) return err('ERR_TOKEN_CLAIMS', `oidc: parse uid claim ${JSON.stringify(name)}: ${v.error}`);
      uid = v.value;
    } else if (m.uid.kind === 'expression') {
      const r = m.uid.program.evaluate(celClaims!);
      if (!r.ok) {
        return err(
          'ERR_TOKEN_CLAIMS',
          `oidc: error evaluating uid claim expression: expression '${m.uid.program.expression}' resulted in error: ${r.error}`,
        );
      }
      if (typeof r.value !== 'string') {
        return err(
          'ERR_TOKEN_CLAIMS',
          'oidc: error evaluating uid claim expression: uid claim expression must return a string',
        );
      }
      uid = r.value;
    }

    // extra: the credential id from jti first, then every mapping (all evaluated before any is converted)
    const extra = new Map<string, string[]>();
    const jti = has('jti') ? claims.jti : undefined;
    if (typeof jti === 'string' && jti !== '') extra.set(EXTRA_CREDENTIAL_ID, [`JTI=${jti}`]);
    const extraResults = [];
    for (const mapping of m.extra) {
      const r = mapping.program.evaluate(celClaims!);
      // kube returns this one unwrapped, without the `oidc: ` prefix.
      if (!r.ok) {
        return err(
          'ERR_TOKEN_CLAIMS',
          `expression '${mapping.program.expression}' resulted in error: ${r.error}`,
        );
      }
      extraResults.push({ mapping, value: r.value });
    }
    for (const { mapping, value } of extraResults) {
      const list = toStringList(value);
      if (!list.ok) {
        return err(
          'ERR_TOKEN_CLAIMS',
          `oidc: error evaluating extra claim expression: ${mapping.program.expression}: expression must return a string or a list of strings`,
        );
      }
      if (list.values.length > 0) extra.set(mapping.key, list.values);
    }

    // required claims (claim + requiredValue)
    for (const rule of spec.claimValidationRules) {
      if (rule.kind !== 'claim') continue;
      if (!has(rule.claim)) {
        return err('ERR_TOKEN_CLAIMS', `oidc: required claim ${rule.claim} not present in ID token`);
      }
      const v = claimString(claims[rule.claim]);
      if (!v.ok) return err('ERR_TOKEN_CLAIMS', `oidc: parse claim ${rule.claim}: ${v.error}`);
      if (v.value !== rule.requiredValue) {
        return err(
          'ERR_TOKEN_CLAIMS',
          `oidc: required claim ${rule.claim} value does not match. Got = ${v.value}, want = ${rule.requiredValue}`,
        );
      }
    }

    // claim validation expressions: all evaluated, then checked in order
    const claimRules = spec.claimValidationRules.filter((r) => r.kind === 'expression');
    const claimProblem = checkRules(
      claimRules.map((r) => ({ program: r.program, message: r.message })),
      celClaims,
    );
    if (claimProblem !== undefined) {
      return err('ERR_TOKEN_CLAIMS', `oidc: error evaluating claim validation expression: ${claimProblem}`);
    }

    const user: UserInfo = {
      username,
      ...(uid === '' ? {} : { uid }),
      groups,
      ...(extra.size > 0 ? { extra: Object.fromEntries(extra) } : {}),
    };

    if (spec.userValidationRules.length > 0) {
      const userProblem = checkRules(spec.userValidationRules, toCelUser(user));
      if (userProblem !== undefined) {
        return err('ERR_TOKEN_CLAIMS', `oidc: error evaluating user info validation rule: ${userProblem}`);
      }
    }
    return { outcome: 'authenticated', user: flatUser(user), audiences: [], expiresAt: expMs / 1000 };
  }
}

/** kube's mapper.eval + checkValidationRulesEvaluation: undefined when every rule holds. */
function checkRules(
  rules: readonly { readonly program: CompiledExpression; readonly message: string }[],
  input: CelBindingValue | undefined,
): string | undefined {
  if (rules.length === 0 || input === undefined) return undefined;
  const values = [];
  for (const rule of rules) {
    const r = rule.program.evaluate(input);
    if (!r.ok) return `expression '${rule.program.expression}' resulted in error: ${r.error}`;
    values.push(r.value);
  }
  for (let i = 0; i < rules.length; i++) {
    const v = values[i];
    if (typeof v !== 'boolean') return 'validation expression must return a boolean';
    if (!v) return `validation expression '${rules[i]!.program.expression}' failed: ${rules[i]!.message}`;
  }
  return undefined;
}
