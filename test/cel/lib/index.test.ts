import { celEnv } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { describe, expect, it } from 'vitest';
import { kubeLibraries, regexError } from '../../../src/cel/lib/index.js';
import { evaluator } from './helpers.js';

describe('kubeLibraries', () => {
  it('are the libraries of kube’s base environment that @bufbuild/cel lacks', () => {
    expect(kubeLibraries.map((l) => l.name)).toEqual([
      'sets',
      'lists',
      'ext.lists',
      'regex',
      'urls',
      'ip',
      'cidr',
      'semver',
      'quantity',
      'format',
    ]);
  });

  it('give every function a result type, one per name across libraries', () => {
    const results = new Map<string, string>();
    for (const lib of kubeLibraries) {
      for (const f of lib.funcs)
        expect([lib.name, f.name, lib.results.has(f.name)]).toEqual([lib.name, f.name, true]);
      for (const [name, type] of lib.results) {
        expect([name, results.get(name) ?? type]).toEqual([name, type]);
        results.set(name, type);
      }
    }
    expect(results.get('sets.contains')).toBe('bool');
    expect(results.get('isSorted')).toBe('bool');
    expect(results.get('find')).toBe('string');
    expect(results.get('url')).toBe('dyn');
  });

  it('replace none of @bufbuild/cel’s functions, nor one another’s', () => {
    const ids = new Set([...celEnv().funcs].map((f) => f.id));
    for (const f of strings) ids.add(f.id);
    for (const lib of kubeLibraries) {
      for (const f of lib.funcs) {
        expect([lib.name, f.id, ids.has(f.id)]).toEqual([lib.name, f.id, false]);
        ids.add(f.id);
      }
    }
  });

  it('work together in one environment, beside the strings extension', () => {
    const cel = evaluator(...kubeLibraries);
    const claims = {
      sub: 'user-123',
      groups: ['dev', 'ops', 'dev'],
      iss: 'https://issuer.example.com:8443/realms/x?tenant=a',
      addr: '10.1.2.3',
    };
    cel.expectTrue(
      [
        "claims.sub.find('[0-9]+') == '123'",
        "sets.intersects(claims.groups.distinct(), ['ops'])",
        "claims.groups.distinct().sort().join(',') == 'dev,ops'",
        "url(claims.iss).getHostname() == 'issuer.example.com' && url(claims.iss).getQuery()['tenant'] == ['a']",
        "cidr('10.0.0.0/8').containsIP(claims.addr) && ip(claims.addr).isGlobalUnicast()",
        "claims.groups.indexOf('ops') == 1 && claims.sub.indexOf('-') == 4",
        "lists.range(3).map(i, claims.groups[i]).lastIndexOf('dev') == 2",
      ],
      claims,
    );
  });

  it('export the regex check for a constant pattern', () => {
    expect(regexError('(')).toBe('error parsing regexp: missing closing ): `(`');
    expect(regexError('\\p{Greek}')).toBeUndefined();
  });
});
