import { describe, expect, it } from 'vitest';
import { listsLibrary } from '../../../src/cel/lib/lists.js';
import { evaluator } from './helpers.js';

const cel = evaluator(listsLibrary);

/* kube's test object, as CEL literals (the test binds them through an OpenAPI schema). */
const SELF: Record<string, string> = {
  ints: '[1, 2, 2, 3]',
  unsortedInts: '[2, 1]',
  emptyInts: 'dyn([])',
  doubles: '[1.0, 2.0, 2.0, 3.0]',
  unsortedDoubles: '[2.0, 1.0]',
  emptyDoubles: 'dyn([])',
  durations: "[duration('1s'), duration('1m'), duration('1m'), duration('1h')]",
  unsortedDurations: "[duration('1m'), duration('1s')]",
  emptyDurations: 'dyn([])',
  strings: "['a', 'b', 'b', 'c']",
  unsortedStrings: "['b', 'a']",
  emptyStrings: 'dyn([])',
  dates:
    "[timestamp('2000-01-01T00:00:00Z'), timestamp('2000-02-01T00:00:00Z'), timestamp('2000-02-01T00:00:00Z'), timestamp('2010-01-01T00:00:00Z')]",
  unsortedDates: "[timestamp('2000-02-01T00:00:00Z'), timestamp('2000-01-01T00:00:00Z')]",
  emptyDates: 'dyn([])',
  objs: "[{'f1': 'a', 'f2': 'a'}, {'f1': 'a', 'f2': 'b'}, {'f1': 'a', 'f2': 'b'}, {'f1': 'a', 'f2': 'c'}]",
};
const self = (expr: string): string => expr.replace(/self\.(\w+)/g, (_, name: string) => `(${SELF[name]})`);

describe('lists (kube library.Lists)', () => {
  // Cases from k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation_test.go
  // (TestValidationExpressions, "stdlib list functions"), without the dates' int-backed doubles.
  it('kube’s valid expressions', () => {
    cel.expectTrue(
      [
        'self.ints.sum() == 8',
        'self.ints.min() == 1',
        'self.ints.max() == 3',
        'self.emptyInts.sum() == 0',
        'self.ints.isSorted()',
        'self.emptyInts.isSorted()',
        'self.unsortedInts.isSorted() == false',
        'self.ints.indexOf(2) == 1',
        'self.ints.lastIndexOf(2) == 2',
        'self.ints.indexOf(10) == -1',
        'self.ints.lastIndexOf(10) == -1',
        'self.doubles.sum() == 8.0',
        'self.doubles.min() == 1.0',
        'self.doubles.max() == 3.0',
        'self.doubles.isSorted()',
        'self.unsortedDoubles.isSorted() == false',
        'self.doubles.indexOf(2.0) == 1',
        'self.doubles.lastIndexOf(2.0) == 2',
        'self.doubles.indexOf(10.0) == -1',
        "self.durations.sum() == duration('1h2m1s')",
        "self.durations.min() == duration('1s')",
        "self.durations.max() == duration('1h')",
        'self.durations.isSorted()',
        'self.unsortedDurations.isSorted() == false',
        "self.durations.indexOf(duration('1m')) == 1",
        "self.durations.lastIndexOf(duration('1m')) == 2",
        "self.durations.indexOf(duration('2m')) == -1",
        "self.strings.min() == 'a'",
        "self.strings.max() == 'c'",
        'self.strings.isSorted()',
        'self.emptyStrings.isSorted()',
        'self.unsortedStrings.isSorted() == false',
        "self.strings.indexOf('b') == 1",
        "self.strings.lastIndexOf('b') == 2",
        "self.strings.indexOf('x') == -1",
        "self.dates.min() == timestamp('2000-01-01T00:00:00.000Z')",
        "self.dates.max() == timestamp('2010-01-01T00:00:00.000Z')",
        'self.dates.isSorted()',
        'self.unsortedDates.isSorted() == false',
        "self.dates.indexOf(timestamp('2000-02-01T00:00:00.000Z')) == 1",
        "self.dates.lastIndexOf(timestamp('2000-02-01T00:00:00.000Z')) == 2",
        "self.dates.indexOf(timestamp('2005-02-01T00:00:00.000Z')) == -1",
        '[[1], [2]].indexOf([1]) == 0',
        "[{'a': 1}, {'b': 2}].lastIndexOf({'b': 2}) == 1",
        'self.objs.indexOf(self.objs[1]) == 1',
        'self.objs.lastIndexOf(self.objs[1]) == 2',
        '([0] + self.emptyInts).min() == 0',
        'dyn([]).sum() == 0',
        'dyn([1, 2]).sum() == 3',
        'dyn([1.0, 2.0]).sum() == 3.0',
        '[].sum() == 0',
      ].map(self),
    );
  });

  it('kube’s errors', () => {
    // Same file: min and max of an empty list. (kube refuses `['a'].sum()` and `[[1]].min()`
    // when it compiles; on a list whose type shows only at run time cel-go's dispatch on the
    // first element answers "no such overload".)
    cel.expectErrors({
      [self('self.emptyInts.min() == 1')]: 'min called on empty list',
      [self('self.emptyInts.max() == 3')]: 'max called on empty list',
      [self('self.emptyStrings.min() == "a"')]: 'min called on empty list',
      "['a', 'b'].sum() == 'c'": 'no such overload: sum(list)',
      '[[1], [2]].min() == [1]': 'no such overload: min(list)',
      "[{'a': 1}, {'b': 2}].max() == {'b': 2}": 'no such overload: max(list)',
      '[[1]].isSorted()': 'no such overload: isSorted(list)',
    });
  });

  it('follows cel-go on lists of mixed types (claims are dynamic)', () => {
    cel.expectErrors({
      '[1, 2.5].sum()': 'no such overload', // Int.Add(Double)
      "[1, 'a'].sum()": 'no such overload',
      '[9223372036854775807, 1].sum()': 'integer overflow',
      '[18446744073709551615u, 1u].sum()': 'unsigned integer overflow',
      '[1, [2]].isSorted()': 'no such overload', // a later element that is not comparable
    });
    cel.expectTrue([
      '[1, 2.5, 3u].isSorted()', // cel-go compares numbers across types
      '[3u, 1.5, 2].min() == 1.5',
      "[1, 'a'].isSorted()", // cel-go's Compare error is not "greater", so it is skipped
      "['b', 'a'].min() == 'a'",
      "['\\uffff', '\\U0001F600'].isSorted()", // code point order (Go's), not UTF-16 order
      '[true, false].min() == false',
      "[b'b', b'a'].min() == b'a'",
    ]);
  });

  it('works on claims', () => {
    const claims = { scores: [3, 1, 2], groups: ['b', 'a'] };
    cel.expectTrue(
      [
        'claims.scores.sum() == 6.0',
        'claims.scores.max() == 3',
        "claims.groups.indexOf('a') == 1",
        '!claims.groups.isSorted()',
      ],
      claims,
    );
    expect(cel.run('claims.scores.sum()', claims)).toEqual({ ok: true, value: 6 });
  });
});
