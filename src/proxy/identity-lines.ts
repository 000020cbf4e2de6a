import { identityHeaderLines } from '../http/identity-headers.js';
import type { UserInfo } from '../user.js';

/** Identity header lines in node's flat raw form (name, value, name, value…), or null: not sendable. */
export type FlatIdentity = readonly string[] | null;

/**
 * The identity header lines of a user (`identityHeaderLines`, flattened), built once per
 * user object. A cached token's answer is one object for as long as it stays cached, so
 * every request it authenticates reuses the lines instead of re-encoding and re-checking
 * each value. Keyed by the object itself, never by its contents: two distinct users
 * cannot share an entry however their fields compare, and an entry goes when its user
 * does. A `UserInfo` is never changed once built (readonly throughout), so an entry
 * cannot go stale.
 */
export function identityLineCache(): (user: UserInfo) => FlatIdentity {
  const built = new WeakMap<UserInfo, FlatIdentity>();
  return (user) => {
    let lines = built.get(user);
    if (lines === undefined) {
      const pairs = identityHeaderLines(user);
      lines = pairs === undefined ? null : pairs.flat();
      built.set(user, lines);
    }
    return lines;
  };
}
