import { describe, expect, it } from 'vitest';
import { namesLoopbackLiterally, refusedAddress } from '../../src/keys/address-policy.js';

describe('key source address policy (SSRF)', () => {
  it.each([
    ['169.254.169.254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['168.63.129.16', 'metadata'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
  ])('refuses %s as %s', (address, kind) => {
    expect(refusedAddress(address, false)).toBe(kind);
  });

  it('keeps private ranges allowed: the in-cluster kube-apiserver is the usual JWKS host', () => {
    for (const address of [
      '10.96.0.1',
      '172.16.0.1',
      '192.168.1.1',
      '100.64.0.1',
      'fd12:3456::1',
      '8.8.8.8',
      '2001:db8::1',
    ]) {
      expect(refusedAddress(address, false)).toBeUndefined();
    }
  });

  it('lets loopback through when allowed, and nothing else', () => {
    expect(refusedAddress('127.0.0.1', true)).toBeUndefined();
    expect(refusedAddress('::1', true)).toBeUndefined();
    expect(refusedAddress('169.254.169.254', true)).toBe('metadata');
    expect(refusedAddress('fe80::1', true)).toBe('link-local');
    expect(refusedAddress('0.0.0.0', true)).toBe('unspecified');
  });

  it('counts only a loopback IP written in the URL as an explicit choice, never a name', () => {
    expect(namesLoopbackLiterally('https://127.0.0.1:8443/openid/v1/jwks')).toBe(true);
    expect(namesLoopbackLiterally('https://[::1]:8443/jwks')).toBe(true);
    expect(namesLoopbackLiterally('https://localhost:8443/jwks')).toBe(false);
    expect(namesLoopbackLiterally('https://127.0.0.1.nip.io/jwks')).toBe(false);
    expect(namesLoopbackLiterally('https://169.254.169.254/latest/meta-data')).toBe(false);
    expect(namesLoopbackLiterally('https://10.96.0.1/openid/v1/jwks')).toBe(false);
    expect(namesLoopbackLiterally('not a url')).toBe(false);
  });
});
