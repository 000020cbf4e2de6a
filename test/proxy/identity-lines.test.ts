import { describe, expect, it } from 'vitest';
import { identityLineCache } from '../../src/proxy/identity-lines.js';
import type { UserInfo } from '../../src/user.js';

describe('identity lines per user', () => {
  const user: UserInfo = {
    username: 'system:serviceaccount:ns:app',
    uid: 'u-1',
    groups: ['system:serviceaccounts', 'system:authenticated'],
    extra: { 'authentication.kubernetes.io/pod-name': ['app-0'] },
  };

  it("gives client-go's header lines in node's flat form", () => {
    expect(identityLineCache()(user)).toEqual([
      'X-Remote-User',
      'system:serviceaccount:ns:app',
      'X-Remote-Uid',
      'u-1',
      'X-Remote-Group',
      'system:serviceaccounts',
      'X-Remote-Group',
      'system:authenticated',
      'X-Remote-Extra-authentication.kubernetes.io%2Fpod-name',
      'app-0',
    ]);
  });

  it('builds the lines of one user object once and hands the same lines out again', () => {
    const lines = identityLineCache();
    expect(lines(user)).toBe(lines(user));
  });

  it('never gives one user the lines of another, however alike their fields read', () => {
    const lines = identityLineCache();
    const a: UserInfo = { username: 'alice', groups: ['dev,ops'] };
    const b: UserInfo = { username: 'alice', groups: ['dev', 'ops'] };
    const c: UserInfo = { username: 'alice', groups: ['dev,ops'], extra: { team: ['x'] } };
    expect(lines(a)).toEqual(['X-Remote-User', 'alice', 'X-Remote-Group', 'dev,ops']);
    expect(lines(b)).toEqual(['X-Remote-User', 'alice', 'X-Remote-Group', 'dev', 'X-Remote-Group', 'ops']);
    expect(lines(c)).toEqual([
      'X-Remote-User',
      'alice',
      'X-Remote-Group',
      'dev,ops',
      'X-Remote-Extra-team',
      'x',
    ]);
    // An equal copy is another user object: its own lines, equal but not shared.
    const copy: UserInfo = { username: 'alice', groups: ['dev,ops'] };
    expect(lines(copy)).toEqual(lines(a));
    expect(lines(copy)).not.toBe(lines(a));
  });

  it('remembers that a user cannot be sent in headers', () => {
    const lines = identityLineCache();
    const broken: UserInfo = { username: 'mallory\r\nX-Remote-Group: system:masters', groups: [] };
    expect(lines(broken)).toBeNull();
    expect(lines(broken)).toBeNull();
  });
});
