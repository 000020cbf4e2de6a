import type { Clock } from '../../clock.js';
import { TokenwardenError } from '../../errors.js';
import { own } from '../../json.js';
import type { KeySource } from '../../keys/key-source.js';
import {
  failure,
  NO_OPINION,
  promisedAnswer,
  type AuthnResult,
  type AuthnSuccess,
  type TokenAuthenticator,
} from '../authenticator.js';
import { checkAudiences } from '../audiences.js';
import { gateToken, type UnverifiedToken } from '../jwt/gate.js';
import { verifyToken, type KeyVerdict } from '../jwt/verify.js';
import {
  checkBoundObjects,
  checkLegacyObjects,
  checkServiceAccountRef,
  type ClusterObjects,
} from './bound-objects.js';
import {
  boundServiceAccount,
  checkTime,
  kubeServiceAccountRef,
  legacyServiceAccount,
  serviceAccountUser,
  tokenAudiences,
} from './claims.js';

/** The `iss` of secret-based tokens (kube's `LegacyIssuer`). */
export const LEGACY_ISSUER = 'kubernetes/serviceaccount';

export type LegacyTokenPolicy = 'reject' | 'accept';

export interface ServiceAccountAuthenticatorOptions {
  /** Accepted `iss` values of bound tokens, each with the source of its keys; asked per token. */
  readonly issuers: Pick<ReadonlyMap<string, KeySource>, 'get' | 'has'>;
  /**
   * Keys that verify legacy tokens (kube uses the same key files for both). Legacy
   * tokens are claimed either way, so that `reject` answers with a reason.
   */
  readonly legacyKeys?: KeySource;
  readonly legacy: LegacyTokenPolicy;
  /** `--api-audiences`, defaulting to every issuer (kube's implicit audiences); read per token. */
  readonly implicitAudiences: readonly string[];
  readonly clock: Clock;
  /**
   * Live mode: the cluster's service accounts, secrets, pods and nodes, checked as kube's
   * validators do with lookups on. Absent, only the token itself is checked.
   */
  readonly objects?: ClusterObjects;
}

const KEYS_UNAVAILABLE = 'keys for issuer not yet available';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Kube's service-account authenticator (bound and legacy), offline: gate → route by
 * unverified issuer → keys by kid → signature → claims → audiences → time → UserInfo.
 * With `objects` (live mode) the bound objects are looked up as kube does.
 */
export class ServiceAccountAuthenticator implements TokenAuthenticator {
  private readonly isOurs: (iss: string) => boolean;

  constructor(private readonly options: ServiceAccountAuthenticatorOptions) {
    this.isOurs = (iss) => options.issuers.has(iss) || iss === LEGACY_ISSUER;
  }

  readonly authenticateToken = promisedAnswer((token, audiences) =>
    this.authenticateTokenNow(token, audiences),
  );

  /**
   * The answer without a promise when the issuer's keys are at hand (nearly every token):
   * a cache miss then costs its callers no promise and no turn of the microtask queue each.
   */
  authenticateTokenNow(token: string, audiences: readonly string[]): AuthnResult | Promise<AuthnResult> {
    const gated = gateToken(token, this.isOurs);
    if (gated.kind === 'not-mine') return NO_OPINION;
    if (gated.kind === 'rejected') return failure(gated.error);
    const t = gated.token;
    const legacy = t.untrustedIssuer === LEGACY_ISSUER;
    if (legacy && this.options.legacy === 'reject') {
      return failure(
        new TokenwardenError('ERR_TOKEN_LEGACY_REFUSED', 'legacy service account tokens are not accepted', {
          detail: 'secret-based tokens never expire; enable them with --service-account-legacy-tokens=accept',
        }),
      );
    }
    const source = legacy ? this.options.legacyKeys : this.options.issuers.get(t.untrustedIssuer);
    const verdict = source && verifyToken(source, t);
    // Most tokens verify without a turn of the event loop; only a key refresh or many candidates wait.
    if (verdict instanceof Promise)
      return verdict.then((settled) => this.afterSignature(token, t, legacy, audiences, settled));
    return this.afterSignature(token, t, legacy, audiences, verdict);
  }

  private afterSignature(
    token: string,
    t: UnverifiedToken,
    legacy: boolean,
    audiences: readonly string[],
    verdict: KeyVerdict | undefined,
  ): AuthnResult {
    if (!verdict) return failure(new TokenwardenError('ERR_KEYS_UNAVAILABLE', KEYS_UNAVAILABLE));
    if (!verdict.ok) return failure(verdict.error);
    return this.validateVerified(token, t, legacy, audiences);
  }

  /** Everything below runs on claims whose signature has been verified. */
  private validateVerified(
    token: string,
    t: UnverifiedToken,
    legacy: boolean,
    requested: readonly string[],
  ): AuthnResult {
    if (t.claimsProblem) return failure(t.claimsProblem);
    const claims = t.untrustedClaims;
    // Kube re-checks the issuer on the decoded claims: its pre-filter matched `iss` case-insensitively.
    const exactIssuer = own(claims, 'iss');
    if (exactIssuer !== t.untrustedIssuer) {
      const shown = typeof exactIssuer === 'string' ? exactIssuer : '';
      return failure(
        new TokenwardenError('ERR_TOKEN_INVALID', `token issuer ${JSON.stringify(shown)} is invalid`),
      );
    }
    const tokenAuds = tokenAudiences(claims);
    if (!legacy && tokenAuds.length === 0) {
      // Stricter than kube, which treats a bound token without aud as one for the API audiences.
      return failure(
        new TokenwardenError('ERR_TOKEN_AUDIENCE', 'service account token has no audience (aud)'),
      );
    }
    const auds = checkAudiences(tokenAuds, requested, this.options.implicitAudiences);
    if (!auds.ok) return failure(auds.error);

    let info;
    if (legacy) {
      info = legacyServiceAccount(claims);
    } else {
      if (typeof claims.exp !== 'number') {
        // Stricter than kube: a bound token that never expires is refused.
        return failure(
          new TokenwardenError('ERR_TOKEN_CLAIMS', 'service account token has no expiration (exp)'),
        );
      }
      const timeError = checkTime(claims, this.options.clock.now());
      if (timeError) return failure(timeError);
      info = boundServiceAccount(claims);
    }
    const { objects } = this.options;
    if (info instanceof TokenwardenError && objects && !legacy) {
      // kube checks none of these claims offline: an empty namespace, name or uid meets its lookup.
      const ref = kubeServiceAccountRef(claims);
      const lookup = ref && checkServiceAccountRef(ref, objects, this.options.clock.now());
      if (lookup) return failure(lookup);
    }
    if (info instanceof TokenwardenError) return failure(info);
    const live = !objects
      ? undefined
      : legacy
        ? checkLegacyObjects(info, info.legacySecretName ?? '', token, objects)
        : checkBoundObjects(info, objects, this.options.clock.now());
    if (live instanceof TokenwardenError) return failure(live);
    const result: Mutable<AuthnSuccess> = {
      outcome: 'authenticated',
      user: serviceAccountUser(info),
      audiences: auds.audiences,
    };
    if (typeof claims.exp === 'number') result.expiresAt = Math.trunc(claims.exp);
    if (live) result.dependsOn = live.dependsOn;
    return result;
  }
}
