import { describe, expect, it } from 'vitest';
import {
  escapeExtraKey,
  headerValue,
  identityHeaderLines,
  isIdentityHeader,
} from '../../src/http/identity-headers.js';

describe('identity headers', () => {
  it('escapes extra keys as client-go headerKeyEscape does', () => {
    expect(escapeExtraKey('authentication.kubernetes.io/pod-name')).toBe(
      'authentication.kubernetes.io%2Fpod-name',
    );
    expect(escapeExtraKey('scopes')).toBe('scopes');
    // `%` is a token character but is escaped so that url.PathUnescape on the other side never fails.
    expect(escapeExtraKey('100%')).toBe('100%25');
    // Every byte of a multi-byte character, upper-case hex.
    expect(escapeExtraKey('ключ')).toBe('%D0%BA%D0%BB%D1%8E%D1%87');
    expect(escapeExtraKey('a b:c"(),/;<=>?@[\\]{}')).toBe(
      'a%20b%3Ac%22%28%29%2C%2F%3B%3C%3D%3E%3F%40%5B%5C%5D%7B%7D',
    );
    expect(escapeExtraKey("!#$&'*+-.^_`|~09AZaz")).toBe("!#$&'*+-.^_`|~09AZaz");
    expect(escapeExtraKey('\x7f\x00')).toBe('%7F%00');
  });

  it('writes one line per group and per extra value, uid only when set', () => {
    expect(
      identityHeaderLines({
        username: 'jane',
        groups: ['a,b', 'c'],
        extra: { 'example.org/scopes': ['read', 'write'] },
      }),
    ).toEqual([
      ['X-Remote-User', 'jane'],
      ['X-Remote-Group', 'a,b'],
      ['X-Remote-Group', 'c'],
      ['X-Remote-Extra-example.org%2Fscopes', 'read'],
      ['X-Remote-Extra-example.org%2Fscopes', 'write'],
    ]);
    expect(identityHeaderLines({ username: 'u', uid: '', groups: [] })).toEqual([['X-Remote-User', 'u']]);
  });

  it('carries non-ASCII values as their UTF-8 bytes and refuses control characters', () => {
    expect(Buffer.from(headerValue('José')!, 'latin1').toString('utf8')).toBe('José');
    expect(headerValue('a\r\nX-Remote-User: root')).toBeUndefined();
    expect(headerValue('nul\0')).toBeUndefined();
    expect(identityHeaderLines({ username: 'ok', groups: ['bad\ngroup'] })).toBeUndefined();
    expect(headerValue('tab\tok')).toBe('tab\tok');
  });

  it('recognises identity and impersonation headers in any case', () => {
    for (const name of [
      'X-Remote-User',
      'x-remote-uid',
      'X-REMOTE-GROUP',
      'x-Remote-Extra-anything',
      'Impersonate-User',
      'IMPERSONATE-EXTRA-x',
    ])
      expect(isIdentityHeader(name), name).toBe(true);
    for (const name of ['X-Remote-Users', 'X-Remote-Extra', 'Authorization', 'X-Forwarded-User'])
      expect(isIdentityHeader(name), name).toBe(false);
  });
});
