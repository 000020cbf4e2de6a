import type { UserInfo } from '../user.js';

/**
 * A flat (sequential) copy of a string: no cons or sliced string keeps its parts alive.
 * A string with a lone surrogate would not survive the UTF-8 round trip; it stays as is.
 */
function flat(s: string): string {
  const copy = Buffer.from(s, 'utf8').toString('utf8');
  return copy === s ? copy : s;
}

/**
 * A user whose strings are all flat copies. The token cache keeps an answer's strings as the
 * authenticator built them; an authenticator whose strings come from expressions (slices of
 * a claim, concatenations) hands out this copy, so a cached answer never keeps a whole claim
 * or a chain of parts alive for a piece of it.
 */
export function flatUser(u: UserInfo): UserInfo {
  return {
    username: flat(u.username),
    ...(u.uid !== undefined ? { uid: flat(u.uid) } : {}),
    groups: u.groups.map(flat),
    ...(u.extra
      ? { extra: Object.fromEntries(Object.entries(u.extra).map(([k, v]) => [k, v.map(flat)])) }
      : {}),
  };
}
