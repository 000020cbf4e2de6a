/** A request target split as Go's `url.URL` holds it: `path` decoded, `rawQuery` as sent. */
export interface RequestTarget {
  /** The percent-decoded path (Go's `URL.Path`), what authorization and ignore paths match. */
  readonly path: string;
  /** Everything after the first `?`, undecoded; empty without one. */
  readonly rawQuery: string;
}

/** Escapes that would let a path mean something other than what it says once an upstream decodes it. */
const HIDDEN_SEPARATOR = /%(?:2f|5c|2e|00)/i;
const VALID_ESCAPES = /^(?:[^%]|%[0-9a-fA-F]{2})*$/;
/** A `.` or `..` segment, or an empty one before the last (`//`); a trailing `/` is an empty last segment. */
const NON_CANONICAL_SEGMENT = /\/\/|\/\.\.?(?:\/|$)/;

/**
 * The path and query of an origin-form request target, or undefined for a target the proxy
 * refuses with 400 before matching anything (kube-rbac-proxy PR #443: an ignore path must not be reachable by another spelling):
 * not starting with `/`, `//`, `.` or `..` segments, a backslash, an escaped `/`, `\`, `.`
 * or NUL, or a malformed escape (Go's url.Parse refuses those too). Checking the raw and
 * the decoded path alike means `/healthz/../admin` cannot match an ignore path `/healthz*`
 * while the upstream serves `/admin`. A trailing `/` is canonical: `/api/` and `/api` are
 * distinct paths to RBAC and to most upstreams.
 */
export function parseRequestTarget(target: string): RequestTarget | undefined {
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const rawQuery = q < 0 ? '' : target.slice(q + 1);
  if (!rawPath.startsWith('/') || rawPath.includes('\\')) return undefined;
  // Most paths hold no escape at all: nothing to check or decode in them.
  const escaped = rawPath.includes('%');
  if (escaped && (HIDDEN_SEPARATOR.test(rawPath) || !VALID_ESCAPES.test(rawPath))) return undefined;
  const path = escaped ? percentDecode(rawPath, false) : rawPath;
  return NON_CANONICAL_SEGMENT.test(path) ? undefined : { path, rawQuery };
}

/**
 * `--ignore-path` patterns: an exact path, or a prefix when the pattern ends in `*`
 * (`/healthz`, `/static/*`). Matched against the decoded, canonical path.
 */
export function createPathMatcher(patterns: readonly string[]): (path: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const p of patterns) {
    if (!p.startsWith('/')) throw new TypeError(`ignore path "${p}" must start with /`);
    const star = p.indexOf('*');
    if (star >= 0 && star !== p.length - 1)
      throw new TypeError(`ignore path "${p}": * is allowed only at the end`);
    if (star < 0) exact.add(p);
    else prefixes.push(p.slice(0, -1));
  }
  if (exact.size === 0 && prefixes.length === 0) return () => false;
  return (path) => exact.has(path) || prefixes.some((prefix) => path.startsWith(prefix));
}

/**
 * Go's `url.ParseQuery` (what kube-rbac-proxy's rewrites read): pairs split on `&`, a pair
 * holding `;` or a malformed escape dropped, `+` as space, the first `=` splitting name from
 * value. Values keep their order of appearance.
 */
export function parseGoQuery(rawQuery: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    const name = queryUnescape(eq < 0 ? pair : pair.slice(0, eq));
    const value = queryUnescape(eq < 0 ? '' : pair.slice(eq + 1));
    if (name === undefined || value === undefined) continue;
    const list = out.get(name);
    if (list) list.push(value);
    else out.set(name, [value]);
  }
  return out;
}

function queryUnescape(s: string): string | undefined {
  return VALID_ESCAPES.test(s) ? percentDecode(s, true) : undefined;
}

/** Go's `url.PathUnescape`: undefined for a malformed escape. */
export function pathUnescape(s: string): string | undefined {
  return VALID_ESCAPES.test(s) ? percentDecode(s, false) : undefined;
}

/**
 * Go's unescape over well-formed input. Runs of escapes are decoded as UTF-8 together, so a
 * multi-byte character survives; bytes that are not UTF-8 become U+FFFD, which no name or
 * path tokenwarden matches contains.
 */
function percentDecode(s: string, plusAsSpace: boolean): string {
  const text = plusAsSpace ? s.replaceAll('+', ' ') : s;
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) =>
    Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'),
  );
}
