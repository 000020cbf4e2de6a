/**
 * Go's net/url (Go 1.26), as far as kube's URL library uses it: `ParseRequestURI`, `Parse`,
 * `String`, `Hostname`, `Port`, `EscapedPath` and `Query`, with Go's error texts.
 *
 * Go's strings are bytes and net/url escapes and unescapes bytes, so the parser works on
 * "byte strings" (one char per UTF-8 byte, as Buffer's latin1 gives them); results are
 * decoded back to text (an escape that is no valid UTF-8, `%ff`, becomes U+FFFD).
 * GODEBUG defaults are Go 1.26's: `urlstrictcolons` (an http or https host has at most one
 * colon outside brackets) and `urlmaxqueryparams=10000`.
 */
import { parseAddr } from './netip.js';
import { quoteRune } from '../../go-quote.js';

const enum Mode {
  Path = 1,
  PathSegment,
  Host,
  Zone,
  UserPassword,
  QueryComponent,
  Fragment,
}

export const toBytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
export const fromBytes = (b: string): string => Buffer.from(b, 'latin1').toString('utf8');

/** Go's `%q` of a byte string: invalid UTF-8 bytes as \xNN. */
function quoteBytes(b: string): string {
  const bytes = Buffer.from(b, 'latin1');
  let out = '"';
  for (let i = 0; i < bytes.length;) {
    const [cp, size] = decodeRune(bytes, i);
    out += cp < 0 ? `\\x${bytes[i]!.toString(16).padStart(2, '0')}` : quoteRune(cp);
    i += size;
  }
  return out + '"';
}

/** Go's utf8.DecodeRune: [rune, size], rune -1 for an invalid byte (size 1). */
function decodeRune(b: Buffer, i: number): [number, number] {
  const c0 = b[i]!;
  if (c0 < 0x80) return [c0, 1];
  let need: number;
  if (c0 >= 0xc2 && c0 <= 0xdf) need = 1;
  else if (c0 >= 0xe0 && c0 <= 0xef) need = 2;
  else if (c0 >= 0xf0 && c0 <= 0xf4) need = 3;
  else return [-1, 1];
  let cp = c0 & (0x3f >> need);
  for (let k = 1; k <= need; k++) {
    const c = b[i + k];
    if (c === undefined || (c & 0xc0) !== 0x80) return [-1, 1];
    cp = (cp << 6) | (c & 0x3f);
  }
  const min = [0, 0x80, 0x800, 0x10000][need]!;
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return [-1, 1];
  return [cp, need + 1];
}

const isAlnum = (c: number): boolean =>
  (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);

/** Go's shouldEscape (RFC 3986 with Go's deviations). */
function shouldEscape(c: number, mode: Mode): boolean {
  if (isAlnum(c)) return false;
  const ch = String.fromCharCode(c);
  if ((mode === Mode.Host || mode === Mode.Zone) && `!$&'()*+,;=:[]<>"`.includes(ch)) return false;
  if ('-_.~'.includes(ch)) return false;
  if ('$&+,/:;=?@'.includes(ch)) {
    switch (mode) {
      case Mode.Path:
        return ch === '?';
      case Mode.PathSegment:
        return ch === '/' || ch === ';' || ch === ',' || ch === '?';
      case Mode.UserPassword:
        return ch === '@' || ch === '/' || ch === '?' || ch === ':';
      case Mode.QueryComponent:
        return true;
      case Mode.Fragment:
        return false;
    }
  }
  if (mode === Mode.Fragment && '!()*'.includes(ch)) return false;
  return true;
}

const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

class EscapeError extends Error {
  constructor(s: string) {
    super(`invalid URL escape ${quoteBytes(s)}`);
  }
}

function unescape(s: string, mode: Mode): string {
  let n = 0;
  let hasPlus = false;
  for (let i = 0; i < s.length;) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      n++;
      if (i + 2 >= s.length || !isHex(s[i + 1]) || !isHex(s[i + 2])) {
        throw new EscapeError(s.slice(i, i + 3));
      }
      const v = parseInt(s.slice(i + 1, i + 3), 16);
      if (mode === Mode.Host && v >> 4 < 8 && s.slice(i, i + 3) !== '%25') {
        throw new EscapeError(s.slice(i, i + 3));
      }
      if (mode === Mode.Zone && s.slice(i, i + 3) !== '%25' && v !== 0x20 && shouldEscape(v, Mode.Host)) {
        throw new EscapeError(s.slice(i, i + 3));
      }
      i += 3;
    } else if (c === 0x2b) {
      hasPlus = mode === Mode.QueryComponent;
      i++;
    } else {
      if ((mode === Mode.Host || mode === Mode.Zone) && c < 0x80 && shouldEscape(c, mode)) {
        throw new Error(`invalid character ${quoteBytes(s[i]!)} in host name`);
      }
      i++;
    }
  }
  if (n === 0 && !hasPlus) return s;
  let t = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '%') {
      t += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === '+') {
      t += mode === Mode.QueryComponent ? ' ' : '+';
    } else {
      t += c;
    }
  }
  return t;
}

function escape(s: string, mode: Mode): string {
  let t = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x20 && mode === Mode.QueryComponent) t += '+';
    else if (shouldEscape(c, mode)) t += `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else t += s[i];
  }
  return t;
}

function validEncoded(s: string, mode: Mode): boolean {
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if ("!$&'()*+,;=:@[]%".includes(ch)) continue;
    if (shouldEscape(s.charCodeAt(i), mode)) return false;
  }
  return true;
}

function validOptionalPort(port: string): boolean {
  return port === '' || /^:[0-9]*$/.test(port);
}

/** A parsed URL; every field a byte string, as Go's url.URL holds it. */
export interface GoURL {
  scheme: string;
  opaque: string;
  user: { username: string; password: string; passwordSet: boolean } | undefined;
  host: string;
  path: string;
  rawPath: string;
  omitHost: boolean;
  forceQuery: boolean;
  rawQuery: string;
  fragment: string;
  rawFragment: string;
}

function getScheme(raw: string): [string, string] {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) continue;
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
      if (i === 0) return ['', raw];
      continue;
    }
    if (c === 0x3a) {
      if (i === 0) throw new Error('missing protocol scheme');
      return [raw.slice(0, i), raw.slice(i + 1)];
    }
    return ['', raw];
  }
  return ['', raw];
}

function parseHost(scheme: string, host: string): string {
  const open = host.lastIndexOf('[');
  if (open > 0) throw new Error('invalid IP-literal');
  if (open === 0) {
    const close = host.lastIndexOf(']');
    if (close < 0) throw new Error("missing ']' in host");
    const colonPort = host.slice(close + 1);
    if (!validOptionalPort(colonPort)) throw new Error(`invalid port ${quoteBytes(colonPort)} after host`);
    const port = unescape(colonPort, Mode.Host);
    const hostname = host.slice(1, close);
    const zone = hostname.indexOf('%25');
    const unescaped =
      zone >= 0
        ? unescape(hostname.slice(0, zone), Mode.Host) + unescape(hostname.slice(zone), Mode.Zone)
        : unescape(hostname, Mode.Host);
    let family: number;
    try {
      family = parseAddr(fromBytes(unescaped)).family;
    } catch (err) {
      throw new Error(`invalid host: ${(err as Error).message}`);
    }
    if (family === 4) throw new Error('invalid IP-literal');
    return `[${unescaped}]${port}`;
  }
  let i = host.indexOf(':');
  if (i !== -1) {
    const last = host.lastIndexOf(':');
    // RFC 3986 allows no colon in a host; Go 1.26 (urlstrictcolons) enforces it for http(s) only.
    if (last !== i && scheme !== 'http' && scheme !== 'https') i = last;
    const colonPort = host.slice(i);
    if (!validOptionalPort(colonPort)) throw new Error(`invalid port ${quoteBytes(colonPort)} after host`);
  }
  return unescape(host, Mode.Host);
}

function validUserinfo(s: string): boolean {
  return /^[-A-Za-z0-9._:~!$&'()*+,;=%@]*$/.test(s);
}

function parseAuthority(u: GoURL, authority: string): void {
  const at = authority.lastIndexOf('@');
  u.host = parseHost(u.scheme, at < 0 ? authority : authority.slice(at + 1));
  if (at < 0) return;
  const userinfo = authority.slice(0, at);
  if (!validUserinfo(userinfo)) throw new Error('net/url: invalid userinfo');
  const colon = userinfo.indexOf(':');
  if (colon < 0) {
    u.user = { username: unescape(userinfo, Mode.UserPassword), password: '', passwordSet: false };
  } else {
    u.user = {
      username: unescape(userinfo.slice(0, colon), Mode.UserPassword),
      password: unescape(userinfo.slice(colon + 1), Mode.UserPassword),
      passwordSet: true,
    };
  }
}

function setPath(u: GoURL, p: string): void {
  u.path = unescape(p, Mode.Path);
  u.rawPath = escape(u.path, Mode.Path) === p ? '' : p;
}

function setFragment(u: GoURL, f: string): void {
  u.fragment = unescape(f, Mode.Fragment);
  u.rawFragment = escape(u.fragment, Mode.Fragment) === f ? '' : f;
}

function parse(raw: string, viaRequest: boolean): GoURL {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw new Error('net/url: invalid control character in URL');
  }
  if (raw === '' && viaRequest) throw new Error('empty url');
  const u: GoURL = {
    scheme: '',
    opaque: '',
    user: undefined,
    host: '',
    path: '',
    rawPath: '',
    omitHost: false,
    forceQuery: false,
    rawQuery: '',
    fragment: '',
    rawFragment: '',
  };
  if (raw === '*') {
    u.path = '*';
    return u;
  }
  let rest: string;
  [u.scheme, rest] = getScheme(raw);
  u.scheme = u.scheme.toLowerCase();
  if (rest.endsWith('?') && rest.indexOf('?') === rest.length - 1) {
    u.forceQuery = true;
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf('?');
    if (q >= 0) {
      u.rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }
  if (!rest.startsWith('/')) {
    if (u.scheme !== '') {
      u.opaque = rest; // a rootless path is opaque (RFC 3986)
      return u;
    }
    if (viaRequest) throw new Error('invalid URI for request');
    const segment = rest.split('/', 1)[0]!;
    if (segment.includes(':')) throw new Error('first path segment in URL cannot contain colon');
  }
  if ((u.scheme !== '' || (!viaRequest && !rest.startsWith('///'))) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    rest = '';
    const slash = authority.indexOf('/');
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    parseAuthority(u, authority);
  } else if (u.scheme !== '' && rest.startsWith('/')) {
    u.omitHost = true;
  }
  setPath(u, rest);
  return u;
}

function urlError(raw: string, err: unknown): Error {
  return new Error(`parse ${quoteBytes(raw)}: ${(err as Error).message}`);
}

/** Go's `url.ParseRequestURI` of a byte string. */
export function parseRequestURI(raw: string): GoURL {
  try {
    return parse(raw, true);
  } catch (err) {
    throw urlError(raw, err);
  }
}

/** Go's `url.Parse` of a byte string. */
export function parseURL(raw: string): GoURL {
  const hash = raw.indexOf('#');
  const head = hash < 0 ? raw : raw.slice(0, hash);
  let u: GoURL;
  try {
    u = parse(head, false);
  } catch (err) {
    throw urlError(head, err);
  }
  const frag = hash < 0 ? '' : raw.slice(hash + 1);
  if (frag === '') return u;
  try {
    setFragment(u, frag);
  } catch (err) {
    throw urlError(raw, err);
  }
  return u;
}

export function escapedPath(u: GoURL): string {
  if (u.rawPath !== '' && validEncoded(u.rawPath, Mode.Path)) {
    try {
      if (unescape(u.rawPath, Mode.Path) === u.path) return u.rawPath;
    } catch {
      // fall through to escaping the path
    }
  }
  if (u.path === '*') return '*';
  return escape(u.path, Mode.Path);
}

function escapedFragment(u: GoURL): string {
  if (u.rawFragment !== '' && validEncoded(u.rawFragment, Mode.Fragment)) {
    try {
      if (unescape(u.rawFragment, Mode.Fragment) === u.fragment) return u.rawFragment;
    } catch {
      // fall through to escaping the fragment
    }
  }
  return escape(u.fragment, Mode.Fragment);
}

/** Go's `URL.String()` (kube's URL equality compares these). */
export function urlString(u: GoURL): string {
  let buf = '';
  if (u.scheme !== '') buf += `${u.scheme}:`;
  if (u.opaque !== '') {
    buf += u.opaque;
  } else {
    if (u.scheme !== '' || u.host !== '' || u.user !== undefined) {
      if (!(u.omitHost && u.host === '' && u.user === undefined)) {
        if (u.host !== '' || u.path !== '' || u.user !== undefined) buf += '//';
        if (u.user !== undefined) {
          buf += escape(u.user.username, Mode.UserPassword);
          if (u.user.passwordSet) buf += `:${escape(u.user.password, Mode.UserPassword)}`;
          buf += '@';
        }
        if (u.host !== '') buf += escape(u.host, Mode.Host);
      }
    }
    const path = escapedPath(u);
    if (path !== '' && path[0] !== '/' && u.host !== '') buf += '/';
    if (buf === '' && path.split('/', 1)[0]!.includes(':')) buf += './';
    buf += path;
  }
  if (u.forceQuery || u.rawQuery !== '') buf += `?${u.rawQuery}`;
  if (u.fragment !== '') buf += `#${escapedFragment(u)}`;
  return buf;
}

/** Go's splitHostPort (url package): the port only when it is numeric. */
function splitHostPort(hostPort: string): [string, string] {
  let host = hostPort;
  let port = '';
  const colon = host.lastIndexOf(':');
  if (colon !== -1 && validOptionalPort(host.slice(colon))) {
    port = host.slice(colon + 1);
    host = host.slice(0, colon);
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return [host, port];
}

export const hostname = (u: GoURL): string => splitHostPort(u.host)[0];
export const port = (u: GoURL): string => splitHostPort(u.host)[1];

/** Go's default `urlmaxqueryparams` (Go 1.24 and later). */
const MAX_QUERY_PARAMS = 10000;

/** Go's `URL.Query()`: ParseQuery, its errors dropped (a pair with `;` or a bad escape is skipped). */
export function query(u: GoURL): Map<string, string[]> {
  const m = new Map<string, string[]>();
  let q = u.rawQuery;
  if (q.split('&').length > MAX_QUERY_PARAMS) return m;
  while (q !== '') {
    const amp = q.indexOf('&');
    let key = amp < 0 ? q : q.slice(0, amp);
    q = amp < 0 ? '' : q.slice(amp + 1);
    if (key.includes(';') || key === '') continue;
    const eq = key.indexOf('=');
    let value = '';
    if (eq >= 0) {
      value = key.slice(eq + 1);
      key = key.slice(0, eq);
    }
    try {
      key = unescape(key, Mode.QueryComponent);
      value = unescape(value, Mode.QueryComponent);
    } catch {
      continue;
    }
    const list = m.get(key);
    if (list) list.push(value);
    else m.set(key, [value]);
  }
  return m;
}
