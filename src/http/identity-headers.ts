import type { UserInfo } from '../user.js';

/**
 * The front-proxy identity headers kube-apiserver, kube-aggregator and client-go agree on
 * (`SetAuthProxyHeaders` in client-go's `transport/round_trippers.go`).
 */
export const REMOTE_USER = 'X-Remote-User';
export const REMOTE_UID = 'X-Remote-Uid';
export const REMOTE_GROUP = 'X-Remote-Group';
export const REMOTE_EXTRA_PREFIX = 'X-Remote-Extra-';

/** RFC 7230 `tchar`: the bytes a header name may hold unescaped (Go's `isTokenTable`). */
const TOKEN_BYTE = (() => {
  const table = new Uint8Array(128);
  for (const ch of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    table[ch.charCodeAt(0)] = 1;
  return table;
})();

/**
 * client-go's `headerKeyEscape`: every UTF-8 byte of `key` that is not an RFC 7230 token
 * character, and `%` itself (so that the receiver's `url.PathUnescape` never fails), becomes
 * `%XX` with upper-case hex. `authentication.kubernetes.io/pod-name` →
 * `authentication.kubernetes.io%2Fpod-name`.
 */
export function escapeExtraKey(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    if (byte < 128 && TOKEN_BYTE[byte] === 1 && byte !== 0x25) out += String.fromCharCode(byte);
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Header values go out as the UTF-8 bytes of the string, as Go writes them. Node writes a
 * header string one byte per UTF-16 unit (latin1), so the bytes are carried in a binary
 * string. Undefined when the value holds a byte no HTTP/1.1 header value may carry (CR,
 * LF, NUL, other controls): such an identity cannot be sent, and Go's client refuses too.
 */
export function headerValue(value: string): string | undefined {
  const binary = Buffer.from(value, 'utf8').toString('latin1');
  for (let i = 0; i < binary.length; i++) {
    const c = binary.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return undefined;
  }
  return binary;
}

/**
 * The header lines that tell an upstream who the caller is, in client-go's order: user,
 * uid (only when set), one `X-Remote-Group` line per group (never comma-joined: a group
 * may contain a comma), one `X-Remote-Extra-<escaped key>` line per value. Undefined when
 * a value cannot be carried in a header (see headerValue).
 */
export function identityHeaderLines(user: UserInfo): [name: string, value: string][] | undefined {
  const lines: [string, string][] = [];
  const add = (name: string, value: string): boolean => {
    const encoded = headerValue(value);
    if (encoded === undefined) return false;
    lines.push([name, encoded]);
    return true;
  };
  if (!add(REMOTE_USER, user.username)) return undefined;
  if (user.uid !== undefined && user.uid !== '' && !add(REMOTE_UID, user.uid)) return undefined;
  for (const group of user.groups) if (!add(REMOTE_GROUP, group)) return undefined;
  for (const [key, values] of Object.entries(user.extra ?? {})) {
    const name = `${REMOTE_EXTRA_PREFIX}${escapeExtraKey(key)}`;
    for (const value of values) if (!add(name, value)) return undefined;
  }
  return lines;
}

/**
 * Whether a client-sent header (name in any case) claims an identity and must never reach
 * an upstream from the client: the `X-Remote-*` set (kubernetes#119631:
 * strip whatever the case, even where other names are configured) and `Impersonate-*`,
 * which is read by the impersonation step and then dropped, as kube's filter does.
 */
export function isIdentityHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    lower === 'x-remote-user' ||
    lower === 'x-remote-uid' ||
    lower === 'x-remote-group' ||
    lower.startsWith('x-remote-extra-') ||
    lower.startsWith('impersonate-')
  );
}
