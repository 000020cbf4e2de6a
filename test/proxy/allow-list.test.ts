import { describe, expect, it } from 'vitest';
import { createAllowList } from '../../src/proxy/allow-list.js';

const sa = (ns: string, name: string) => ({
  username: `system:serviceaccount:${ns}:${name}`,
  groups: ['system:authenticated'],
});

describe('allow-lists', () => {
  it('is absent when no list is given', () => {
    expect(createAllowList({})).toBeUndefined();
  });

  it('passes a listed service account, a service account of a listed namespace, or a member of a listed group', () => {
    const allow = createAllowList({ serviceAccounts: ['ns1:app'], namespaces: ['ns2'], groups: ['ops'] })!;
    expect(allow(sa('ns1', 'app'))).toBe(true);
    expect(allow(sa('ns1', 'other'))).toBe(false);
    expect(allow(sa('ns2', 'anyone'))).toBe(true);
    expect(allow({ username: 'jane', groups: ['ops'] })).toBe(true);
    expect(allow({ username: 'jane', groups: ['dev'] })).toBe(false);
    // A user named like a namespace's service account but not one (bad name) is not in the namespace.
    expect(allow({ username: 'system:serviceaccount:ns2:a:b', groups: [] })).toBe(false);
  });

  it('refuses malformed entries when built', () => {
    expect(() => createAllowList({ serviceAccounts: ['app'] })).toThrow(/NAMESPACE:NAME/);
    expect(() => createAllowList({ serviceAccounts: ['ns:App'] })).toThrow(/NAMESPACE:NAME/);
    expect(() => createAllowList({ namespaces: ['Bad_NS'] })).toThrow(/not a valid namespace/);
  });
});
