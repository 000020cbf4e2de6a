/**
 * kube's `library.URLs` (kubernetes.urls): `url(s)`, `isURL(s)` and the methods
 * `getScheme()`, `getHost()`, `getHostname()`, `getPort()`, `getEscapedPath()`,
 * `getQuery()`. A URL must be an absolute URI or an absolute path (Go's
 * `url.ParseRequestURI`); its value is Go's `url.Parse` of the string (see go-url.ts), and two
 * URLs are equal when their Go `String()` forms are, as in kube. The `kubernetes.URL` value
 * is opaque (see opaque.ts).
 */
import { celFunc, celMethod, CelScalar, listType, mapType, type CelList } from '@bufbuild/cel';
import { goStringList } from '../string-lists.js';
import {
  escapedPath,
  fromBytes,
  hostname,
  parseRequestURI,
  parseURL,
  port,
  query,
  toBytes,
  urlString,
  type GoURL,
} from './go-url.js';
import { defineLibrary, type CelLibrary } from './library.js';
import { opaqueType } from './opaque.js';

function parse(s: string): GoURL {
  const raw = toBytes(s);
  try {
    parseRequestURI(raw);
    // Parse again: ParseRequestURI keeps a #fragment in the path or the query.
    return parseURL(raw);
  } catch (err) {
    throw new Error(`URL parse error during conversion from string: ${(err as Error).message}`);
  }
}

/** `kubernetes.URL`: equal when Go's `URL.String()` forms are. */
const URL = opaqueType<GoURL>('kubernetes.URL', (identity) => parseURL(identity));

const { STRING, BOOL } = CelScalar;

function getter(name: string, get: (u: GoURL) => string) {
  return celMethod(name, URL.type, [], STRING, function () {
    return fromBytes(get(URL.read(this)!));
  });
}

export const urlsLibrary: CelLibrary = defineLibrary(
  'urls',
  [
    celFunc('url', [STRING], URL.type, (s) => {
      const u = parse(s);
      return URL.make(urlString(u), u);
    }),
    celFunc('isURL', [STRING], BOOL, (s) => {
      try {
        parseRequestURI(toBytes(s));
        return true;
      } catch {
        return false;
      }
    }),
    getter('getScheme', (u) => u.scheme),
    getter('getHost', (u) => u.host),
    getter('getHostname', hostname),
    getter('getPort', port),
    getter('getEscapedPath', escapedPath),
    celMethod('getQuery', URL.type, [], mapType(STRING, listType(STRING)), function () {
      // The values are Go []string in kube (url.Values): see string-lists.ts.
      const out = new Map<string, CelList>();
      for (const [k, vs] of query(URL.read(this)!)) out.set(fromBytes(k), goStringList(vs.map(fromBytes)));
      return out;
    }),
  ],
  {
    url: 'dyn',
    isURL: 'bool',
    getScheme: 'string',
    getHost: 'string',
    getHostname: 'string',
    getPort: 'string',
    getEscapedPath: 'string',
    getQuery: 'map',
  },
);
