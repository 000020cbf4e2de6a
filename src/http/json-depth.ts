/**
 * Go's encoding/json (and sigs.k8s.io/json, which kube-apiserver decodes request bodies
 * with) refuses input nested deeper than 10000 ("exceeded max depth", added after
 * CVE-2019-11253). kube-apiserver answers such a body 400; V8's JSON.parse would take it,
 * and a 128 KiB body of brackets held the event loop for tens of milliseconds.
 */
export const MAX_JSON_DEPTH = 10_000;

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether `text` opens more than `max` arrays or objects inside one another, counting
 * only brackets outside strings. A linear scan that never builds anything: run before
 * JSON.parse, it bounds what the parse can cost. Malformed text is left to the parser.
 */
export function nestedDeeperThan(text: string, max = MAX_JSON_DEPTH): boolean {
  // Deeper than `max` takes more than `max` opening brackets: a review body (about 1 KB)
  // is never scanned, which was a tenth of a cached answer's cost (docs/benchmarks.md).
  if (text.length <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return false;
}
