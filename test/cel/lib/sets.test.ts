import { describe, expect, it } from 'vitest';
import { setsLibrary } from '../../../src/cel/lib/sets.js';
import { evaluator } from './helpers.js';

const cel = evaluator(setsLibrary);

describe('sets (cel-go ext.Sets)', () => {
  // Cases from cel-go ext/sets_test.go (TestSets).
  it('sets.contains', () => {
    cel.expectTrue(
      [
        'sets.contains(x, [1, 2, 3])',
        'sets.contains(x, [1, 1, 1, 1, 1])',
        'sets.contains([], [])',
        'sets.contains([1], [])',
        'sets.contains([1], [1])',
        'sets.contains([1], [1, 1])',
        'sets.contains([1, 1], [1])',
        'sets.contains([2, 1], [1])',
        'sets.contains([1, 2, 3, 4], [2, 3])',
        'sets.contains([1], [1.0, 1])',
        'sets.contains([1, 2], [2u, 2.0])',
        'sets.contains([1, 2u], [2, 2.0])',
        'sets.contains([1, 2.0, 3u], [1.0, 2u, 3])',
        'sets.contains([[1], [2, 3]], [[2, 3.0]])',
        '!sets.contains([1], [2])',
        '!sets.contains([1], [1, 2])',
        '!sets.contains([1], ["1", 1])',
        '!sets.contains([1], [1.1, 1u])',
      ].map((e) => e.replaceAll('x,', 'claims.x,')),
      { x: [5, 4, 3, 2, 1] },
    );
  });

  it('sets.equivalent', () => {
    cel.expectTrue([
      'sets.equivalent([], [])',
      'sets.equivalent([1], [1])',
      'sets.equivalent([1], [1, 1])',
      'sets.equivalent([1, 1], [1])',
      'sets.equivalent([1], [1u, 1.0])',
      'sets.equivalent([1, 2, 3], [3u, 2.0, 1])',
      'sets.equivalent([[1.0], [2, 3]], [[1], [2, 3.0]])',
      '!sets.equivalent([2, 1], [1])',
      '!sets.equivalent([1], [1, 2])',
      '!sets.equivalent([1, 2], [2u, 2, 2.0])',
      '!sets.equivalent([1, 2], [1u, 2, 2.3])',
    ]);
  });

  it('sets.intersects', () => {
    cel.expectTrue([
      'sets.intersects([1], [1])',
      'sets.intersects([1], [1, 1])',
      'sets.intersects([1, 1], [1])',
      'sets.intersects([2, 1], [1])',
      'sets.intersects([1], [1, 2])',
      'sets.intersects([1], [1.0, 2])',
      'sets.intersects([1, 2], [2u, 2, 2.0])',
      'sets.intersects([1, 2], [1u, 2, 2.3])',
      'sets.intersects([[1], [2, 3]], [[1, 2], [2, 3.0]])',
      '!sets.intersects([], [])',
      '!sets.intersects([1], [])',
      '!sets.intersects([1], [2])',
      '!sets.intersects([1], ["1", 2])',
      '!sets.intersects([1], [1.1, 2u])',
    ]);
  });

  it('works on claims, whose numbers are doubles', () => {
    const claims = { groups: ['system:masters', 'dev'], ids: [1, 2] };
    cel.expectTrue(
      [
        "sets.intersects(claims.groups, ['dev', 'ops'])",
        "!sets.contains(claims.groups, ['dev', 'ops'])",
        'sets.equivalent(claims.ids, [2, 1])',
      ],
      claims,
    );
  });

  it('refuses what is not two lists, and a call past kube’s per-call cost limit', () => {
    expect(cel.run("sets.contains('a', ['a'])").ok).toBe(false);
    // cel-go's cost for the call is 1 + |a|·|b|·factor; kube's per-call limit is 1e6.
    const big = Array.from({ length: 1001 }, (_, i) => i);
    cel.expectErrors(
      { 'sets.contains(claims.a, claims.a)': 'operation cancelled: actual cost limit exceeded' },
      { a: big },
    );
  });
});
