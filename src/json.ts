/** A decoded JSON (or YAML) object: keys are the sender's, so read them only through `own`. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** A JSON object, not an array or null. */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own properties only: a key named `constructor` or `__proto__` is data, not a prototype lookup. */
export function own(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** What JSON.stringify escapes in a string: `"`, `\\`, control characters, lone surrogates (and, here, paired ones). */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `JSON.stringify(s)` for a string, the same text, with the serializer run only where a
 * character needs escaping: names, addresses and identifiers never do, and the test costs
 * a fraction of the call.
 */
export function jsonString(s: string): string {
  return NEEDS_ESCAPING.test(s) ? JSON.stringify(s) : `"${s}"`;
}
