import type { KeyObject } from 'node:crypto';

/** The JWS algorithms tokenwarden ever verifies; HS*, none and EdDSA are never accepted for SA tokens. */
export const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/**
 * A public key ready for `crypto.verify`, imported once. `algorithms` is the set this
 * key may verify: an RSA key the RS and PS families (as kube's go-jose), an EC key only
 * the ES algorithm of its curve (stricter than kube, which checks only the length).
 */
export interface VerificationKey {
  readonly kid: string;
  readonly key: KeyObject;
  readonly algorithms: ReadonlySet<Algorithm>;
  /** Where the key came from (file path or URL), for logs and `verify` output. */
  readonly origin: string;
}

/**
 * An immutable set of keys; sources swap a whole new snapshot on reload so a
 * verification never sees half a reload. `byKid` is a Map so a hostile `kid` such as
 * `__proto__` never reaches an object prototype.
 */
export interface KeySnapshot {
  readonly keys: readonly VerificationKey[];
  readonly byKid: ReadonlyMap<string, readonly VerificationKey[]>;
  /** Increases on every change; cached results remember the generation they were made under. */
  readonly generation: number;
}

export interface KeySourceHealth {
  readonly name: string;
  /** True once a usable key set has loaded; stays true when a later reload fails. */
  readonly ready: boolean;
  readonly keyCount: number;
  /** Epoch ms of the last successful load, if any. */
  readonly lastSuccess?: number;
  /** The last load error, cleared by the next success. Never contains secrets. */
  readonly lastError?: string;
  /** Loads that succeeded and that failed since start; scraped into the metrics. */
  readonly loads: number;
  readonly loadFailures: number;
  /** Remote sources: why the last load failed, in a fixed vocabulary (timeout, status, too-large, ...). */
  readonly lastFailureReason?: string;
  /** Remote sources: failed loads since start by reason, for the metrics. */
  readonly failuresByReason?: Readonly<Record<string, number>>;
}

/**
 * Why a verifier asks for keys: the token's kid is not in the snapshot (`unknown-kid`),
 * or it is and none of its keys verified the signature (`signature-failed`), because the
 * issuer may have put new key material under the same kid.
 */
export type RefreshReason = 'unknown-kid' | 'signature-failed';

/**
 * Where verification keys come from (files, a JWKS URL, OIDC discovery). Kube's
 * `PublicKeysGetter`: the hot path calls `snapshot()` synchronously; only a token that
 * passed the gate may call `refreshForKid`, for an unknown `kid` or a known one whose
 * signature failed.
 */
export interface KeySource {
  readonly name: string;
  /** The current keys; undefined until the first successful load. */
  snapshot(): KeySnapshot | undefined;
  /**
   * Ask for a refresh for a gated token's kid (reason `unknown-kid` when omitted). Both
   * reasons share one cooldown (between on-demand fetches only) and one fetch in flight,
   * so neither a flood of unknown kids nor one of bad signatures costs more than a fetch
   * per cooldown. Sources that
   * cannot refresh on demand (files) resolve to the current snapshot at once.
   */
  refreshForKid(kid: string, reason?: RefreshReason): Promise<KeySnapshot | undefined>;
  /** Called after every snapshot change. Returns an unsubscribe function. */
  onChange(listener: (snapshot: KeySnapshot) => void): () => void;
  health(): KeySourceHealth;
  close(): void;
}

export function makeSnapshot(keys: readonly VerificationKey[], generation: number): KeySnapshot {
  const byKid = new Map<string, VerificationKey[]>();
  for (const k of keys) {
    const list = byKid.get(k.kid);
    if (list) list.push(k);
    else byKid.set(k.kid, [k]);
  }
  return Object.freeze({ keys: Object.freeze([...keys]), byKid, generation });
}
