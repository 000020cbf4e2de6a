/**
 * Go's `strconv.Quote` (what `%q` prints), which kube's error texts are made of: field
 * errors, audience lists, OIDC and CEL messages all quote through here.
 */

/** Names are almost always plain ASCII with nothing to escape: no per-character walk for them. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** One rune as Go's `strconv.Quote` writes it (without the quotes). */
export function quoteRune(cp: number): string {
  switch (cp) {
    case 0x22:
      return '\\"';
    case 0x5c:
      return '\\\\';
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
  }
  if (cp >= 0xd800 && cp <= 0xdfff) return '\ufffd'; // a lone surrogate: Go's strings hold U+FFFD there
  const ch = String.fromCodePoint(cp);
  if (cp === 0x20 || PRINTABLE.test(ch)) return ch;
  if (cp < 0x80) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}

export function goQuote(s: string): string {
  if (PLAIN.test(s)) return `"${s}"`;
  let out = '"';
  for (const ch of s) out += quoteRune(ch.codePointAt(0)!);
  return `${out}"`;
}

/** `%q` of a []string, as kube prints audience lists: `["a" "b"]`. */
export function goQuoteList(items: readonly string[]): string {
  return `[${items.map(goQuote).join(' ')}]`;
}
