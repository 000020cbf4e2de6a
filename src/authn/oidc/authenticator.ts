import type { Clock } from '../../clock.js';
import { TokenwardenError, type ErrorCode } from '../../errors.js';
import type { KeySource } from '../../keys/key-source.js';
import { verifyWithRotationRetry } from '../../keys/rotation-retry.js';
import { EXTRA_CREDENTIAL_ID, type UserInfo } from '../../user.js';
import { failure, NO_OPINION, type AuthnResult, type TokenAuthenticator } from '../authenticator.js';
import { goQuoteList } from '../audiences.js';
import { gateToken } from '../jwt/gate.js';
import { keysForToken, verifyWithSnapshot } from '../jwt/verify.js';
import {
  toCelClaims,
  toCelUser,
  toStringList,
  type CelBindingValue,
  type CompiledExpression,
} from './cel.js';
import { jsonTypeName, type JwtAuthenticatorSpec } from './config.js';

/**
 * One `jwt[]` entry of an AuthenticationConfiguration, as kube's
 * `plugin/pkg/authenticator/token/oidc` jwtAuthenticator: the unverified `iss` must equal
 * the issuer URL exactly (else no opinion), then go-oidc's checks in go-oidc's order
 * (audience for a single one, expiry, nbf with 5 minutes of leeway, signature), the
 * multi-audience check, then the claim mappings, required claims, claim validation rules
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

/** go-oidc: "Set to 5 minutes since this is what other OpenID Connect providers do". */
const NBF_LEEWAY_MS = 5 * 60 * 1000;

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

function tokenAudiences(claims: Readonly<Record<string, unknown>>): string[] {
  const aud = Object.hasOwn(claims, 'aud') ? claims.aud : undefined;
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? (aud as string[]) : [];
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
    const gated = gateToken(token, this.isOurs);
    if (gated.kind === 'not-mine') return NO_OPINION;
    if (gated.kind === 'rejected') {
      return err(
        'ERR_TOKEN_MALFORMED',
        `oidc: verify token: oidc: malformed jwt: ${gated.error.detail ?? 'invalid'}`,
      );
    }
    const t = gated.token;
    if (t.claimsProblem) {
      return err(
        'ERR_TOKEN_MALFORMED',
        `oidc: verify token: oidc: malformed jwt: ${t.claimsProblem.detail ?? t.claimsProblem.message}`,
      );
    }
    const snapshot = await keysForToken(this.options.keys, t);
    if (!snapshot) return err('ERR_KEYS_UNAVAILABLE', 'oidc: authenticator not initialized');
    const claims = t.untrustedClaims;

    // go-oidc's IDTokenVerifier.Verify: claims first, then the signature.
    const audiences = tokenAudiences(claims);
    const single = this.audiences.size === 1;
    if (single && !audiences.includes(this.options.spec.issuer.audiences[0]!)) {
      return err(
        'ERR_TOKEN_AUDIENCE',
        `oidc: verify token: oidc: expected audience ${JSON.stringify(this.options.spec.issuer.audiences[0])} got ${goQuoteList(audiences)}`,
      );
    }
    const now = this.options.clock.now();
    const exp = typeof claims.exp === 'number' ? Math.trunc(claims.exp) * 1000 : undefined;
    if (exp === undefined || exp < now) {
      return err(
        'ERR_TOKEN_EXPIRED',
        `oidc: verify token: oidc: token is expired (Token Expiry: ${exp === undefined ? GO_ZERO_TIME : goTime(exp)})`,
      );
    }
    if (typeof claims.nbf === 'number') {
      const nbf = Math.trunc(claims.nbf) * 1000;
      if (now + NBF_LEEWAY_MS < nbf) {
        return err(
          'ERR_TOKEN_NOT_YET_VALID',
          `oidc: verify token: oidc: current time ${goTime(now)} before the nbf (not before) time: ${goTime(nbf)}`,
        );
      }
    }
    // The claims were checked above, so only a token that could never verify is kept from a refresh.
    const verdict = await verifyWithRotationRetry(
      this.options.keys,
      snapshot,
      t.alg === undefined ? undefined : t.kid,
      (keys) => verifyWithSnapshot(t, keys),
    );
    if (!verdict.ok) {
      return err(
        'ERR_TOKEN_SIGNATURE',
        'oidc: verify token: failed to verify signature: failed to verify id token signature',
      );
    }
    if (!single && !audiences.some((a) => this.audiences.has(a))) {
      return err(
        'ERR_TOKEN_AUDIENCE',
        `oidc: verify token: oidc: expected audience in ${this.sortedAudiences} got ${goQuoteList(audiences)}`,
      );
    }
    return this.mapVerified(claims, exp);
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
    return { outcome: 'authenticated', user, audiences: [], expiresAt: expMs / 1000 };
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
