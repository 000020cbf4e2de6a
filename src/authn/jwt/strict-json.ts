import { isObject } from '../../json.js';

/**
 * Strict JSON objects for token headers and claims. `JSON.parse` is too lenient here:
 * it keeps the last of duplicate member names (go-jose rejects them, and the answer must
 * never depend on which copy a reader picks: RFC 7493 §2.3), accepts any nesting, and
 * accepts escaped lone surrogates. This parses natively, then checks the result:
 * the member names counted in the text must equal the keys in the parsed tree (a
 * duplicate collapses into one key), every string must be well-formed, and nesting is
 * bounded. A character-by-character validating scanner did the same job measurably
 * slower, on a path every uncached token takes.
 */
export type StrictParseResult = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

const BACKSLASH = 0x5c;
const COLON = 0x3a;
const QUOTE = 0x22;

/** In `u` mode a surrogate pair is one code point, so this matches lone surrogates only. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isEscaped(text: string, quoteAt: number): boolean {
  let backslashes = 0;
  for (let k = quoteAt - 1; text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
  return backslashes % 2 === 1;
}

/**
 * Member names in valid JSON text: a string whose closing quote is followed (after
 * white space) by a colon is a name; inside strings every quote is escaped.
 */
function countMemberNames(text: string): number {
  let members = 0;
  let open = text.indexOf('"');
  while (open >= 0) {
    let close = text.indexOf('"', open + 1);
    while (close >= 0 && isEscaped(text, close)) close = text.indexOf('"', close + 1);
    if (close < 0) return -1;
    let k = close + 1;
    while (isWs(text.charCodeAt(k))) k++;
    if (text.charCodeAt(k) === COLON) members++;
    open = text.indexOf('"', close + 1);
  }
  return members;
}

/**
 * countMemberNames for the usual claims text, compact and without a backslash, by its colons
 * (one-character searches cost a fraction of countMemberNames's two per string). There a
 * colon right after a quote ends a member name, unless that quote opens a string starting
 * with a colon, which only a quote after `{`, `[`, `,` or `:` can do; every other colon is
 * inside a string. Undefined for any other text, or when a name's last character leaves that
 * in doubt: countMemberNames then decides.
 */
function countCompactMemberNames(text: string): number | undefined {
  if (text.includes(' ') || text.includes('\n') || text.includes('\r') || text.includes('\t'))
    return undefined;
  let members = 0;
  for (let at = text.indexOf(':'); at >= 0; at = text.indexOf(':', at + 1)) {
    if (text.charCodeAt(at - 1) !== QUOTE) continue;
    const before = text.charCodeAt(at - 2);
    if (before === 0x7b || before === 0x5b || before === 0x2c || before === COLON || before === QUOTE)
      return undefined;
    members++;
  }
  return members;
}

/**
 * Counts object keys, checking depth and string well-formedness. Recursion stops at
 * `maxDepth`, so however deep the parsed tree is, the stack stays shallow.
 */
function inspect(value: unknown, depth: number, maxDepth: number, escapes: boolean): number | string {
  if (typeof value === 'string')
    return escapes && LONE_SURROGATE.test(value) ? 'lone surrogate in string' : 0;
  if (typeof value !== 'object' || value === null) return 0;
  if (depth > maxDepth) return 'JSON nested too deeply';
  let keys = 0;
  if (Array.isArray(value)) {
    for (const item of value) {
      const r = inspect(item, depth + 1, maxDepth, escapes);
      if (typeof r === 'string') return r;
      keys += r;
    }
    return keys;
  }
  for (const key in value) {
    if (escapes && LONE_SURROGATE.test(key)) return 'lone surrogate in member name';
    const r = inspect((value as Record<string, unknown>)[key], depth + 1, maxDepth, escapes);
    if (typeof r === 'string') return r;
    keys += r + 1;
  }
  return keys;
}

/**
 * Why an already parsed JSON text fails the strict rules, or undefined when it passes.
 * `value` must be `JSON.parse(text)`, and `text` decoded from bytes (UTF-8 decoding never
 * yields a lone surrogate, so only an escape can put one in a string).
 */
export function strictProblem(text: string, value: unknown, maxDepth: number): string | undefined {
  if (!isObject(value)) return 'not a JSON object';
  // A lone surrogate can only come from a \u escape: text decoded from bytes (valid UTF-8 or
  // not) never holds one. Without any escape, the strings need no look at all.
  const backslash = text.includes('\\');
  const keys = inspect(value, 1, maxDepth, backslash && text.includes('\\u'));
  if (typeof keys === 'string') return keys;
  const names = (backslash ? undefined : countCompactMemberNames(text)) ?? countMemberNames(text);
  if (keys !== names) return 'duplicate member name';
  return undefined;
}

/**
 * The first member name that repeats within one object, in document order, as go-jose's
 * decoder reports it (`json: duplicate key '<name>' in object`). Only called once a
 * duplicate is known to exist, on valid JSON text.
 */
export function firstDuplicateMemberName(text: string): string | undefined {
  const objects: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b) objects.push(new Set());
    else if (c === 0x5b) objects.push(null);
    else if (c === 0x7d || c === 0x5d) objects.pop();
    else if (c === 0x22) {
      let close = text.indexOf('"', i + 1);
      while (close >= 0 && isEscaped(text, close)) close = text.indexOf('"', close + 1);
      if (close < 0) return undefined;
      let k = close + 1;
      while (isWs(text.charCodeAt(k))) k++;
      const names = objects[objects.length - 1];
      if (text.charCodeAt(k) === COLON && names) {
        const name = JSON.parse(text.slice(i, close + 1)) as string;
        if (names.has(name)) return name;
        names.add(name);
      }
      i = close;
    }
  }
  return undefined;
}

export function parseStrictObject(text: string, maxDepth: number): StrictParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's message is dropped on purpose: V8 quotes the input.
    return { ok: false, reason: 'not valid JSON' };
  }
  const reason = strictProblem(text, value, maxDepth);
  return reason === undefined ? { ok: true, value: value as Record<string, unknown> } : { ok: false, reason };
}
