import { describe, expect, it } from 'vitest';
import { semverLibrary } from '../../../src/cel/lib/semver.js';
import { evaluator } from './helpers.js';

const cel = evaluator(semverLibrary);

describe('semver (kube library.SemverLib, version 1)', () => {
  // Cases from k8s.io/apiserver/pkg/cel/library/semver_test.go (TestSemver).
  it('kube’s cases', () => {
    cel.expectTrue([
      "semver('1.2.3') == semver('1.2.3')",
      "isSemver('1.2.3-beta.1+build.1')",
      "!isSemver('')",
      "!isSemver('v1.0.0')",
      "!isSemver(' 1.0.0')",
      "!isSemver('1. 0.0')",
      "!isSemver('1.0.0 ')",
      "!isSemver('01.01.01')",
      "!isSemver('1')",
      "!isSemver('1.1')",
      "!isSemver('', true)",
      "!isSemver(' 1.0.0', true)",
      "!isSemver('1. 0.0', true)",
      "!isSemver('1.0.0 ', true)",
      "isSemver('v1.0.0', true)",
      "isSemver('01.01.01', true)",
      "isSemver('1', true)",
      "isSemver('1.1', true)",
      "semver('v01.01', true) == semver('1.1.0')",
      "semver('1.2.3') == semver('1.2.3')",
      "!(semver('1.2.3') == semver('1.0.0'))",
      "semver('1.0.0').isLessThan(semver('1.2.3'))",
      "!semver('1.0.0').isLessThan(semver('1.0.0'))",
      "semver('1.2.3').isGreaterThan(semver('1.0.0'))",
      "!semver('1.0.0').isGreaterThan(semver('1.0.0'))",
      "semver('1.2.3').compareTo(semver('1.2.3')) == 0",
      "semver('1.0.0').compareTo(semver('1.2.3')) == -1",
      "semver('1.2.3').compareTo(semver('1.0.0')) == 1",
      "semver('1.2.3').major() == 1",
      "semver('1.2.3').minor() == 2",
      "semver('1.2.3').patch() == 3",
    ]);
    cel.expectErrors({ "semver('v1.0')": 'No Major.Minor.Patch elements found' });
    expect(cel.run('isSemver([1, 2, 3])').ok).toBe(false);
  });

  // The doc comment of k8s.io/apiserver/pkg/cel/library/semverlib.go, and blang/semver's
  // error texts.
  it('kube’s documented examples, and blang/semver’s errors', () => {
    cel.expectTrue([
      "semver('0.1.0-alpha.1').minor() == 1",
      "semver('v1.0.0', true) == semver('1.0.0')",
      "semver('1.0', true) == semver('1.0.0')",
      "semver('01.01.01', true) == semver('1.1.1')",
    ]);
    cel.expectErrors({
      "semver('200K')": 'No Major.Minor.Patch elements found',
      "semver('Three')": 'No Major.Minor.Patch elements found',
      "semver('')": 'Version string empty',
      "semver('a.0.0')": 'Invalid character(s) found in major number "a"',
      "semver('01.0.0')": 'Major number must not contain leading zeroes "01"',
      "semver('1.01.0')": 'Minor number must not contain leading zeroes "01"',
      "semver('1.0.0x')": 'Invalid character(s) found in patch number "0x"',
      "semver('1..0')": 'strconv.ParseUint: parsing "": invalid syntax',
      "semver('18446744073709551616.0.0')":
        'strconv.ParseUint: parsing "18446744073709551616": value out of range',
      "semver('1.0.0-')": 'Prerelease is empty',
      "semver('1.0.0-01')": 'Numeric PreRelease version must not contain leading zeroes "01"',
      "semver('1.0.0-a_b')": 'Invalid character(s) found in prerelease "a_b"',
      "semver('1.0.0+')": 'Build meta data is empty',
      "semver('1.0.0+a_b')": 'Invalid character(s) found in build meta data "a_b"',
      "semver('1-rc', true)": 'short version cannot contain PreRelease/Build meta data',
    });
    // Go's types.Int(uint64): a major past MaxInt64 wraps.
    expect(cel.value("semver('18446744073709551615.0.0').major()")).toBe(-1n);
  });

  // semver.org's precedence examples (blang/semver's compareTests).
  it('orders as semver.org, build metadata aside', () => {
    const ascending = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '2.0.0',
      '2.1.0',
      '2.1.1',
    ];
    for (let i = 1; i < ascending.length; i++) {
      const [a, b] = [ascending[i - 1], ascending[i]];
      cel.expectTrue([
        `semver('${a}').isLessThan(semver('${b}'))`,
        `semver('${b}').compareTo(semver('${a}')) == 1`,
      ]);
    }
    cel.expectTrue([
      "semver('1.0.0+1') == semver('1.0.0+2')",
      "semver('1.0.0+1').compareTo(semver('1.0.0+2')) == 0",
      "semver('1.0.0-1') != semver('1.0.0-01x')",
      "type(semver('1.0.0')) != type('1.0.0')",
    ]);
  });
});
