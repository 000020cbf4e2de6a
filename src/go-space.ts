/**
 * Go's `unicode.IsSpace`, which `strings.TrimSpace` (kube's bearer parsing) and go-jose's
 * whitespace stripping use: the ASCII `\t \n \v \f \r` and space, U+0085, U+00A0 and the
 * other Unicode White_Space characters. JavaScript's `trim()` and `\s` differ both ways:
 * they take U+FEFF, which Go keeps, and leave U+0085, which Go takes.
 */
const SPACE_CLASS =
  '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const SPACE = new RegExp(SPACE_CLASS);
const SPACES = new RegExp(SPACE_CLASS, 'g');

/** Whether one UTF-16 code unit is a Go space: the same set as SPACE_CLASS, without a regex. */
export function isGoSpaceCode(c: number): boolean {
  return c <= 0x20
    ? c === 0x20 || (c >= 0x09 && c <= 0x0d)
    : c === 0x85 ||
        c === 0xa0 ||
        c === 0x1680 ||
        (c >= 0x2000 && c <= 0x200a) ||
        c === 0x2028 ||
        c === 0x2029 ||
        c === 0x202f ||
        c === 0x205f ||
        c === 0x3000;
}

/** Go's `strings.TrimSpace`. A loop from each end, not a regex: `[…]+$` rescans every inner run of spaces. */
export function goTrimSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && SPACE.test(s[start]!)) start++;
  while (end > start && SPACE.test(s[end - 1]!)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Whether go-jose would strip anything from the token. */
export function hasGoSpace(s: string): boolean {
  return SPACE.test(s);
}

/** go-jose's `stripWhitespace`: every Go space removed, wherever it is. */
export function stripGoSpace(s: string): string {
  return s.replace(SPACES, '');
}
