import type { PolicyHealth } from '../authz/rbac/policy-source.js';
import type { HealthCheck } from '../http/ops.js';
import type { KeySourceHealth } from '../keys/key-source.js';
import type { WatchCacheHealth } from '../live/watch-cache.js';

/**
 * A readiness line for one key source: not ready until it has loaded once; afterwards a
 * failed refresh keeps it ready (the last good keys serve) and says how old they are.
 * Notes are fixed words and numbers, never a URL, a path or a key: /readyz?verbose may be
 * open to anyone who can reach the port.
 */
export function keySourceCheck(name: string, h: KeySourceHealth, nowMs: number): HealthCheck {
  if (!h.ready)
    return {
      name,
      ok: false,
      note: h.lastFailureReason ? `keys not loaded (${h.lastFailureReason})` : 'keys not loaded',
    };
  if (h.lastError === undefined) return { name, ok: true };
  const age =
    h.lastSuccess === undefined ? undefined : Math.max(0, Math.round((nowMs - h.lastSuccess) / 1000));
  const why = h.lastFailureReason ? `${h.lastFailureReason}; ` : '';
  return {
    name,
    ok: true,
    note: `last reload failed (${why}serving the last good keys${age === undefined ? '' : `, ${age}s old`})`,
  };
}

/** The RBAC policy's readiness line: a failed reload keeps the last good policy serving. */
export function policyCheck(h: PolicyHealth): HealthCheck {
  if (!h.ready) return { name: 'rbac-policy', ok: false, note: 'policy not loaded' };
  return h.lastError
    ? { name: 'rbac-policy', ok: true, note: 'last reload failed, serving the last good policy' }
    : { name: 'rbac-policy', ok: true };
}

/**
 * Live mode's readiness line: not ready before every watch cache has listed (an answer
 * then could accept a token whose pod is gone); a broken watch keeps serving its last
 * known state, ready, until it has been broken for the staleness bound.
 */
export function clusterObjectsCheck(
  caches: ReadonlyMap<string, WatchCacheHealth>,
  nowMs: number,
  stalenessBoundMs: number,
): HealthCheck {
  return watchesCheck('cluster-objects', caches, nowMs, stalenessBoundMs);
}

/** The readiness line of a set of watches (`cluster-objects`, `cluster-rbac`), by the rule above. */
export function watchesCheck(
  name: string,
  caches: ReadonlyMap<string, WatchCacheHealth>,
  nowMs: number,
  stalenessBoundMs: number,
): HealthCheck {
  const unsynced = [...caches].filter(([, h]) => !h.synced).map(([k]) => k);
  if (unsynced.length > 0) return { name, ok: false, note: `not listed yet: ${unsynced.join(' ')}` };
  const broken = [...caches.values()].map((h) => h.brokenSinceMs).filter((t) => t !== undefined);
  if (broken.length === 0) return { name, ok: true };
  const age = Math.max(0, nowMs - Math.min(...broken));
  const note = `watch broken, serving last known state, ${Math.round(age / 1000)}s old`;
  return { name, ok: age < stalenessBoundMs, note };
}
