import type { KeySnapshot, KeySource, VerificationKey } from './key-source.js';

function sameMaterial(a: readonly VerificationKey[], b: readonly VerificationKey[]): boolean {
  return a.length === b.length && a.every((k, i) => k.key.equals(b[i]!.key));
}

/**
 * Verifies with `snapshot` and, when the token's kid is known but none of its keys
 * verifies, asks the source once for fresh keys and verifies again if that kid's keys
 * changed: the issuer may have put new material under the same kid (security.md R9).
 * The source's one cooldown and single flight bound what a flood of bad signatures
 * costs. `kid` is undefined for a token that may not cost a refresh (no kid, or it could
 * never verify), so only tokens that passed the gate's pre-checks reach the network.
 * When the retry fails too, its verdict is the same kind of failure as the first.
 */
export async function verifyWithRotationRetry<V extends { readonly ok: boolean }>(
  source: KeySource,
  snapshot: KeySnapshot,
  kid: string | undefined,
  verify: (keys: KeySnapshot) => V | Promise<V>,
): Promise<V> {
  const first = await verify(snapshot);
  const before = kid === undefined ? undefined : snapshot.byKid.get(kid);
  if (first.ok || kid === undefined || !before) return first;
  const fresh = await source.refreshForKid(kid, 'signature-failed');
  const after = fresh?.byKid.get(kid);
  // The kid gone or its keys unchanged: a second check could not change the answer.
  if (!fresh || !after || sameMaterial(before, after)) return first;
  return verify(fresh);
}
