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
