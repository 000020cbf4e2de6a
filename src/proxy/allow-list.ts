import {
  isValidNamespace,
  isValidServiceAccountName,
  serviceAccountUsername,
  splitServiceAccountUsername,
  type UserInfo,
} from '../user.js';

export interface AllowListOptions {
  /** `--allow-service-account NS:NAME`. */
  readonly serviceAccounts?: readonly string[];
  /** `--allow-namespace NS`: any service account of the namespace. */
  readonly namespaces?: readonly string[];
  /** `--allow-group G`: any user in the group. */
  readonly groups?: readonly string[];
}

/**
 * The allow-lists for callers without RBAC: a user passes when it is one of the service
 * accounts, a service account of one of the namespaces, or in one of the groups. With no
 * list given everyone authenticated passes. Entries are checked when built, so a typo in a
 * flag stops the start instead of refusing everyone.
 */
export function createAllowList(options: AllowListOptions): ((user: UserInfo) => boolean) | undefined {
  const usernames = new Set(
    (options.serviceAccounts ?? []).map((entry) => {
      const parts = entry.split(':');
      if (parts.length !== 2 || !isValidNamespace(parts[0]!) || !isValidServiceAccountName(parts[1]!))
        throw new TypeError(`service account "${entry}" must be NAMESPACE:NAME`);
      return serviceAccountUsername(parts[0]!, parts[1]!);
    }),
  );
  const namespaces = new Set(
    (options.namespaces ?? []).map((ns) => {
      if (!isValidNamespace(ns)) throw new TypeError(`namespace "${ns}" is not a valid namespace name`);
      return ns;
    }),
  );
  const groups = new Set(options.groups ?? []);
  if (usernames.size === 0 && namespaces.size === 0 && groups.size === 0) return undefined;
  return (user) => {
    if (usernames.has(user.username)) return true;
    if (namespaces.size > 0) {
      const sa = splitServiceAccountUsername(user.username);
      if (sa && namespaces.has(sa.namespace)) return true;
    }
    return user.groups.some((g) => groups.has(g));
  };
}
