import { constants, verify } from 'node:crypto';
import { TokenwardenError } from '../../errors.js';
import type { Algorithm, KeySnapshot, KeySource, VerificationKey } from '../../keys/key-source.js';
import { MAX_TOKEN_LENGTH, type UnverifiedToken } from './gate.js';
import { HASH_BYTES, verifyPkcs1v15, type Sha2Hash } from './pkcs1.js';

interface AlgorithmSpec {
  readonly hash: Sha2Hash;
  readonly kind: 'pkcs1' | 'pss' | 'ecdsa';
  /** ECDSA signatures in a JWS are fixed-length R‖S (JWA §3.4); DER is refused. */
  readonly ecdsaLength?: number;
}

const ALGORITHMS: Readonly<Record<Algorithm, AlgorithmSpec>> = {
  RS256: { hash: 'sha256', kind: 'pkcs1' },
  RS384: { hash: 'sha384', kind: 'pkcs1' },
  RS512: { hash: 'sha512', kind: 'pkcs1' },
  PS256: { hash: 'sha256', kind: 'pss' },
  PS384: { hash: 'sha384', kind: 'pss' },
  PS512: { hash: 'sha512', kind: 'pss' },
  ES256: { hash: 'sha256', kind: 'ecdsa', ecdsaLength: 64 },
  ES384: { hash: 'sha384', kind: 'ecdsa', ecdsaLength: 96 },
  ES512: { hash: 'sha512', kind: 'ecdsa', ecdsaLength: 132 },
};

/**
 * One signature check with node:crypto directly on a KeyObject imported at load time:
 * no per-call key import, no JWK handling, no promise: allocation per request is what the
 * benchmark showed costing most (docs/benchmarks.md). RS* goes through the RSA public
 * operation and a whole-encoding comparison (pkcs1.ts), as Go's crypto/rsa verifies.
 * The key must be bound to the token's algorithm.
 */
export function verifySignature(
  alg: Algorithm,
  data: Buffer,
  signature: Buffer,
  key: VerificationKey,
): boolean {
  if (!key.algorithms.has(alg)) return false;
  const spec = ALGORITHMS[alg];
  try {
    switch (spec.kind) {
      case 'pkcs1':
        return verifyPkcs1v15(spec.hash, data, key.key, signature);
      case 'pss':
        return verify(
          spec.hash,
          data,
          { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_BYTES[spec.hash] },
          signature,
        );
      case 'ecdsa':
        if (signature.length !== spec.ecdsaLength) return false;
        return verify(spec.hash, data, { key: key.key, dsaEncoding: 'ieee-p1363' }, signature);
    }
  } catch {
    // OpenSSL throws for some malformed signatures (wrong length for the modulus); that is a failed check.
    return false;
  }
}

export const NO_KEYS_FOUND = 'invalid signature, no keys found';
export const CRYPTO_FAILURE = 'go-jose/go-jose: error in cryptographic primitive';

export type KeyVerdict =
  | { readonly ok: true; readonly key: VerificationKey }
  | { readonly ok: false; readonly error: TokenwardenError };

function candidatesFor(
  token: UnverifiedToken,
  snapshot: KeySnapshot,
): readonly VerificationKey[] | undefined {
  return token.kid === undefined ? snapshot.keys : snapshot.byKid.get(token.kid);
}

// The gate let through only base64url characters and dots, so one byte per character is exact.
const signingData = (token: UnverifiedToken): Buffer => Buffer.from(token.signingInput, 'latin1');

/**
 * The signing input of a token checked synchronously, written into one buffer reused for
 * every token instead of a new one each time (perf.md: allocation per token is what the
 * uncached path pays for). Safe only where nothing can run between the write and the last
 * verify: no await may come between.
 */
const scratch = Buffer.allocUnsafe(MAX_TOKEN_LENGTH);
function signingDataInPlace(token: UnverifiedToken): Buffer {
  const n = scratch.write(token.signingInput, 0, 'latin1');
  return scratch.subarray(0, n);
}

const noKeyFound = (): KeyVerdict => ({
  ok: false,
  error: new TokenwardenError('ERR_TOKEN_NO_KEY', NO_KEYS_FOUND),
});

function noKeyVerifies(alg: Algorithm | undefined, candidates: number): KeyVerdict {
  return {
    ok: false,
    error: new TokenwardenError('ERR_TOKEN_SIGNATURE', CRYPTO_FAILURE, {
      detail:
        alg === undefined
          ? 'the token cannot verify: an algorithm that is never accepted, crit, or an empty or oversized signature'
          : `no key verifies this ${alg} signature (${candidates} candidate${candidates === 1 ? '' : 's'})`,
    }),
  };
}

/**
 * Kube's key selection: a `kid` picks only the keys with that kid (no fallback to the
 * others), no `kid` tries every key of the issuer in order; the first that verifies wins.
 */
export function verifyWithSnapshot(token: UnverifiedToken, snapshot: KeySnapshot): KeyVerdict {
  const candidates = candidatesFor(token, snapshot);
  if (!candidates || candidates.length === 0) return noKeyFound();
  const { alg } = token;
  if (alg !== undefined) {
    const data = signingDataInPlace(token);
    for (const key of candidates) {
      if (verifySignature(alg, data, token.signature, key)) return { ok: true, key };
    }
  }
  return noKeyVerifies(alg, candidates.length);
}

/**
 * Keys tried between two turns of the event loop. Anyone may send a kid-less token for a
 * configured issuer, and it is tried against every key of the issuer (up to 100): one
 * turn for all of them held the loop for tens of milliseconds (test/faults/event-loop.test.ts).
 */
export const KEYS_PER_TURN = 4;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** verifyWithSnapshot, giving the event loop back after every KEYS_PER_TURN keys. */
export async function verifyWithSnapshotInTurns(
  token: UnverifiedToken,
  snapshot: KeySnapshot,
): Promise<KeyVerdict> {
  const candidates = candidatesFor(token, snapshot);
  const { alg } = token;
  if (!candidates || candidates.length <= KEYS_PER_TURN || alg === undefined)
    return verifyWithSnapshot(token, snapshot);
  const data = signingData(token);
  for (let i = 0; i < candidates.length; i++) {
    if (i > 0 && i % KEYS_PER_TURN === 0) await nextTurn();
    const key = candidates[i]!;
    if (verifySignature(alg, data, token.signature, key)) return { ok: true, key };
  }
  return noKeyVerifies(alg, candidates.length);
}

/**
 * The kid a token may cost its issuer's source a refresh for: only a token that could
 * verify and whose claims decode: a token that fails the pre-checks never costs a fetch,
 * so garbage cannot drive traffic at the issuer.
 */
function refreshableKid(t: UnverifiedToken): string | undefined {
  return t.alg === undefined || t.claimsProblem ? undefined : t.kid;
}

function sameMaterial(a: readonly VerificationKey[], b: readonly VerificationKey[]): boolean {
  return a.length === b.length && a.every((k, i) => k.key.equals(b[i]!.key));
}

/**
 * The one way a gated token is verified against its issuer's key source, with both of the
 * source's refresh rules: a kid the snapshot lacks asks for fresh keys before verifying;
 * a kid it holds whose keys all fail asks once more and verifies again only if that kid's
 * keys changed (the issuer may have put new material under the same kid).
 * The source's cooldown and single flight bound what a flood of bad tokens costs, and only
 * a token with a refreshable kid reaches the network. Undefined: the source has no keys.
 */
export function verifyToken(
  source: KeySource,
  t: UnverifiedToken,
): KeyVerdict | undefined | Promise<KeyVerdict | undefined> {
  const kid = refreshableKid(t);
  const snapshot = source.snapshot();
  if (kid !== undefined && (!snapshot || !snapshot.byKid.has(kid)))
    return verifyAfterRefresh(source, t, kid, snapshot);
  if (!snapshot) return undefined;
  // The common case (few candidates, as verifyWithSnapshotInTurns would try in one turn)
  // settles synchronously when the signature verifies: no promise, no turn of the loop.
  const candidates = candidatesFor(t, snapshot);
  if (!candidates || candidates.length <= KEYS_PER_TURN || t.alg === undefined)
    return settle(source, t, snapshot, kid, verifyWithSnapshot(t, snapshot));
  return verifyInTurns(source, t, snapshot, kid);
}

async function verifyAfterRefresh(
  source: KeySource,
  t: UnverifiedToken,
  kid: string,
  stale: KeySnapshot | undefined,
): Promise<KeyVerdict | undefined> {
  const snapshot = (await source.refreshForKid(kid)) ?? stale;
  return snapshot ? verifyInTurns(source, t, snapshot, kid) : undefined;
}

async function verifyInTurns(
  source: KeySource,
  t: UnverifiedToken,
  snapshot: KeySnapshot,
  kid: string | undefined,
): Promise<KeyVerdict> {
  return settle(source, t, snapshot, kid, await verifyWithSnapshotInTurns(t, snapshot));
}

/** After the first check: a kid the snapshot holds whose keys all failed asks its source once more. */
function settle(
  source: KeySource,
  t: UnverifiedToken,
  snapshot: KeySnapshot,
  kid: string | undefined,
  first: KeyVerdict,
): KeyVerdict | Promise<KeyVerdict> {
  if (first.ok || kid === undefined) return first;
  const before = snapshot.byKid.get(kid);
  if (!before) return first;
  return retryWithFreshKeys(source, t, kid, before, first);
}

async function retryWithFreshKeys(
  source: KeySource,
  t: UnverifiedToken,
  kid: string,
  before: readonly VerificationKey[],
  first: KeyVerdict,
): Promise<KeyVerdict> {
  const fresh = await source.refreshForKid(kid, 'signature-failed');
  const after = fresh?.byKid.get(kid);
  // The kid gone or its keys unchanged: a second check could not change the answer.
  if (!fresh || !after || sameMaterial(before, after)) return first;
  return verifyWithSnapshotInTurns(t, fresh);
}
