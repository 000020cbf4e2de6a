import { describe, expect, it } from 'vitest';
import { extListsLibrary } from '../../../src/cel/lib/ext-lists.js';
import { evaluator } from './helpers.js';

const cel = evaluator(extListsLibrary);

describe('ext.lists (cel-go ext.Lists, version 3)', () => {
  // Cases from cel-go ext/lists_test.go (TestLists, TestListsRuntimeErrors), less sortBy
  // (a macro) and the ExampleType (protobuf) ones.
  it('cel-go’s cases', () => {
    cel.expectTrue([
      'lists.range(4) == [0,1,2,3]',
      'lists.range(0) == []',
      '[5,1,2,3].reverse() == [3,2,1,5]',
      '[].reverse() == []',
      '[1].reverse() == [1]',
      "['are', 'you', 'as', 'bored', 'as', 'I', 'am'].reverse() == ['am', 'I', 'as', 'bored', 'as', 'you', 'are']",
      '[false, true, true].reverse().reverse() == [false, true, true]',
      '[1,2,3,4].slice(0, 4) == [1,2,3,4]',
      '[1,2,3,4].slice(0, 0) == []',
      '[1,2,3,4].slice(1, 1) == []',
      '[1,2,3,4].slice(4, 4) == []',
      '[1,2,3,4].slice(1, 3) == [2, 3]',
      'dyn([]).flatten() == []',
      'dyn([1,2,3,4]).flatten() == [1,2,3,4]',
      '[1,[2,[3,4]]].flatten() == [1,2,[3,4]]',
      '[1,2,[],[],[3,4]].flatten() == [1,2,3,4]',
      '[1,[2,[3,4]]].flatten(2) == [1,2,3,4]',
      '[[1, 2], 3].flatten(1) == [1, 2, 3]',
      '[[1, 2], 3].flatten(3) == [1, 2, 3]',
      '[].sort() == []',
      '[1].sort() == [1]',
      '[4, 3, 2, 1].sort() == [1, 2, 3, 4]',
      '["d", "a", "b", "c"].sort() == ["a", "b", "c", "d"]',
      '[].distinct() == []',
      '[1].distinct() == [1]',
      '[-2, 5, -2, 1, 1, 5, -2, 1].distinct() == [-2, 5, 1]',
      "['c', 'a', 'a', 'b', 'a', 'b', 'c', 'c'].distinct() == ['c', 'a', 'b']",
      '[1, 2.0, "c", 3, "c", 1].distinct() == [1, 2.0, "c", 3]',
      '[1, 1.0, 2].distinct() == [1, 2]',
      '[[1], [1], [2]].distinct() == [[1], [2]]',
      'lists.range(4 / 2) == [0, 1]',
    ]);
    cel.expectErrors({
      '[1,2,3,4].slice(3, 0)': 'cannot slice(3, 0), start index must be less than or equal to end index',
      '[1,2,3,4].slice(0, 10)': 'cannot slice(0, 10), list is length 4',
      '[1,2,3,4].slice(-5, 10)': 'cannot slice(-5, 10), negative indexes not supported',
      '[1,2,3,4].slice(-5, -3)': 'cannot slice(-5, -3), negative indexes not supported',
      '[1,[2,[3,[4]]]].flatten(-1) == [1,2,3,4]': 'level must be non-negative',
      '["d", 3, 2, "c"].sort() == ["a", "b", "c", "d"]': 'list elements must have the same type',
      '[].flatten(-1)': 'level must be non-negative',
    });
    // dyn({}).flatten() and [].flatten(dyn('1')) are "no such overload" in cel-go.
    expect(cel.run('dyn({}).flatten()').ok).toBe(false);
    expect(cel.run("[].flatten(dyn('1'))").ok).toBe(false);
  });

  it('sort follows cel-go’s sortListByAssociatedKeys', () => {
    cel.expectTrue([
      "['b', 'a', 'c'].sort() == ['a', 'b', 'c']",
      '[2.5, -1.0].sort() == [-1.0, 2.5]',
      "[timestamp('2020-01-01T00:00:00Z'), timestamp('2019-01-01T00:00:00Z')].sort()[0] == timestamp('2019-01-01T00:00:00Z')",
      '[1u, 0u].sort() == [0u, 1u]',
    ]);
    cel.expectErrors({
      '[[1], [0]].sort()': 'list elements must be comparable',
      '[{}].sort()': 'list elements must be comparable',
      '[1, 2.0].sort()': 'list elements must have the same type', // int and double are distinct types
    });
  });

  it('works on claims', () => {
    const claims = { groups: ['b', 'a', 'b'], nested: [['x'], ['y', ['z']]] };
    cel.expectTrue(
      [
        "claims.groups.sort() == ['a', 'b', 'b']",
        "claims.groups.distinct() == ['b', 'a']",
        "claims.nested.flatten() == ['x', 'y', ['z']]",
        "claims.groups.slice(1, 3) == ['a', 'b']",
      ],
      claims,
    );
  });

  it('stops, as kube does, a call whose cost alone is past the per-call limit', () => {
    cel.expectErrors({
      'lists.range(2000000)': 'operation cancelled: actual cost limit exceeded',
      'lists.range(1000).distinct()': 'operation cancelled: actual cost limit exceeded',
      'lists.range(1000).sort()': 'operation cancelled: actual cost limit exceeded',
      '[1].flatten(9223372036854775807)': 'operation cancelled: actual cost limit exceeded',
    });
    expect(cel.value('size(lists.range(100000))')).toBe(100000n);
    expect(cel.value('size(lists.range(500).distinct())')).toBe(500n);
  });
});
