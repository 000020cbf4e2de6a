import { describe, expect, it } from 'vitest';
import { compileExpression, toCelClaims } from '../../../src/cel/compile.js';
import { optionalFuncs } from '../../../src/cel/optional.js';
import type { CelLibrary } from '../../../src/cel/lib/library.js';
import {
  compareQuantities,
  parseQuantity,
  quantityAsApproximateFloat64,
  quantityAsInt64,
  quantityLibrary,
  quantityString,
} from '../../../src/cel/lib/quantity.js';
import { evaluator } from './helpers.js';

const optional: CelLibrary = { name: 'optional', funcs: optionalFuncs, results: new Map() };
const cel = evaluator(quantityLibrary, optional);

const FORMAT_WRONG =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIX = "unable to parse quantity's suffix";
const NUMERIC = 'unable to parse numeric part of quantity';

/** resource's decQuantity(v, scale, format), as an expected value and format. */
function expectQuantity(input: string, value: bigint, scale: number, format: string): void {
  const got = parseQuantity(input);
  const want = parseQuantity(`${value}e${scale}`);
  expect([input, compareQuantities(got, want), got.format]).toEqual([input, 0, format]);
}

describe('quantity (kube library.Quantity)', () => {
  // k8s.io/apiserver@v0.37.2/pkg/cel/library/quantity_test.go (TestQuantity).
  it('kube’s cases', () => {
    cel.expectTrue([
      'quantity("12Mi") == quantity("12582912")',
      'isQuantity("20")',
      'isQuantity("20M")',
      'isQuantity("20Mi")',
      '!isQuantity("20Mo")',
      '!isQuantity("10Mm")',
      'quantity("200M") == quantity("200M")',
      'quantity("200M") == quantity("0.2G") && quantity("0.2G") == quantity("200M")',
      'quantity("2M") == quantity("0.002G") && quantity("2000k") == quantity("2M") && quantity("0.002G") == quantity("2000k")',
      '!(quantity("200M") == quantity("0.3G"))',
      'quantity("50M").isLessThan(quantity("50Mi"))',
      'quantity("50M").isLessThan(quantity("100M"))',
      '!quantity("100M").isLessThan(quantity("50M"))',
      'quantity("50Mi").isGreaterThan(quantity("50M"))',
      'quantity("150Mi").isGreaterThan(quantity("100Mi"))',
      '!quantity("50M").isGreaterThan(quantity("100M"))',
      'quantity("200M").compareTo(quantity("0.2G")) == 0',
      'quantity("50M").compareTo(quantity("50Mi")) == -1',
      'quantity("50Mi").compareTo(quantity("50M")) == 1',
      'quantity("50k").add(quantity("20")) == quantity("50.02k")',
      '!quantity("50k").add(20).isLessThan(quantity("50020"))',
      'quantity("50k").sub(quantity("20")) == quantity("49.98k")',
      'quantity("50k").sub(20) == quantity("49980")',
      'quantity("50k").add(20).sub(quantity("100k")).asInteger() == -49980',
      'quantity("50k").add(20).sub(quantity("100k")).sub(-50000).asInteger() == 20',
      'quantity("50k").asInteger() == 50000',
      '!quantity("9999999999999999999999999999999999999G").isInteger()',
      'quantity("50").isInteger()',
      'quantity("50.703k").asApproximateFloat() == 50703.0',
      '[quantity("9999999999999999999999999999999999999")].all(x, x.add(quantity("1")).compareTo(x.add(quantity("2"))) == -1)',
    ]);
    cel.expectErrors({
      'quantity("10Mo")': FORMAT_WRONG,
      'quantity("10Mm")': SUFFIX,
      'quantity("9999999999999999999999999999999999999G").asInteger()': 'cannot convert value to integer',
    });
    expect(cel.run('isQuantity([1, 2, 3])').ok).toBe(false);
  });

  // The doc comment of k8s.io/apiserver@v0.37.2/pkg/cel/library/quantity.go. It calls
  // quantity('Mi') an error, but resource parses it as 0 ("" before a suffix is 0), as kube does.
  it('kube’s documented examples', () => {
    cel.expectTrue([
      "isQuantity('1.3G')",
      "isQuantity('1.3Gi')",
      "!isQuantity('1,3G')",
      "isQuantity('10000k')",
      "!isQuantity('200K')",
      "!isQuantity('Three')",
      "quantity('Mi') == quantity('0')",
      'quantity("50000000G").isInteger()',
      'quantity("50k").isInteger()',
      'quantity("50k").sub(20000).asApproximateFloat() == 30000.0',
      'quantity("50k").add(20) == quantity("50020")',
      'quantity("50k").sub(20000) == quantity("30k")',
      'quantity("50k").add(20).sub(quantity("100k")).sub(-50000) == quantity("20")',
      'quantity("50M").isLessThan(quantity("100M"))',
      '!quantity("100M").isLessThan(quantity("50M"))',
      '!quantity("50Mi").isGreaterThan(quantity("100Mi"))',
    ]);
    cel.expectErrors({
      "quantity('200K')": SUFFIX,
      "quantity('Three')": FORMAT_WRONG,
      "quantity('1,3G')": FORMAT_WRONG,
    });
  });

  // k8s.io/apimachinery@v0.37.2/pkg/api/resource/quantity_test.go (TestQuantityParse): the
  // value and format of each input, of its negation and with an explicit '+'.
  it('parses as resource.ParseQuantity', () => {
    const table: [string, bigint, number, string][] = [
      ['0', 0n, 0, 'DecimalSI'],
      ['0n', 0n, 0, 'DecimalSI'],
      ['0u', 0n, 0, 'DecimalSI'],
      ['0m', 0n, 0, 'DecimalSI'],
      ['0Ki', 0n, 0, 'BinarySI'],
      ['0k', 0n, 0, 'DecimalSI'],
      ['0Mi', 0n, 0, 'BinarySI'],
      ['0M', 0n, 0, 'DecimalSI'],
      ['0Gi', 0n, 0, 'BinarySI'],
      ['0G', 0n, 0, 'DecimalSI'],
      ['0Ti', 0n, 0, 'BinarySI'],
      ['0T', 0n, 0, 'DecimalSI'],
      ['1', 1n, 0, 'DecimalSI'],
      ['1Ki', 1024n, 0, 'BinarySI'],
      ['8Ki', 8n * 1024n, 0, 'BinarySI'],
      ['7Mi', 7n * 1024n ** 2n, 0, 'BinarySI'],
      ['6Gi', 6n * 1024n ** 3n, 0, 'BinarySI'],
      ['5Ti', 5n * 1024n ** 4n, 0, 'BinarySI'],
      ['4Pi', 4n * 1024n ** 5n, 0, 'BinarySI'],
      ['3Ei', 3n * 1024n ** 6n, 0, 'BinarySI'],
      ['10Ti', 10n * 1024n ** 4n, 0, 'BinarySI'],
      ['100Ti', 100n * 1024n ** 4n, 0, 'BinarySI'],
      ['5n', 5n, -9, 'DecimalSI'],
      ['4u', 4n, -6, 'DecimalSI'],
      ['3m', 3n, -3, 'DecimalSI'],
      ['9', 9n, 0, 'DecimalSI'],
      ['8k', 8n, 3, 'DecimalSI'],
      ['50k', 5n, 4, 'DecimalSI'],
      ['7M', 7n, 6, 'DecimalSI'],
      ['6G', 6n, 9, 'DecimalSI'],
      ['5T', 5n, 12, 'DecimalSI'],
      ['40T', 4n, 13, 'DecimalSI'],
      ['300T', 3n, 14, 'DecimalSI'],
      ['2P', 2n, 15, 'DecimalSI'],
      ['1E', 1n, 18, 'DecimalSI'],
      ['1E-3', 1n, -3, 'DecimalExponent'],
      ['1e3', 1n, 3, 'DecimalExponent'],
      ['1E6', 1n, 6, 'DecimalExponent'],
      ['1e9', 1n, 9, 'DecimalExponent'],
      ['1E12', 1n, 12, 'DecimalExponent'],
      ['1e15', 1n, 15, 'DecimalExponent'],
      ['1E18', 1n, 18, 'DecimalExponent'],
      ['1e14', 1n, 14, 'DecimalExponent'],
      ['1e13', 1n, 13, 'DecimalExponent'],
      ['100.035k', 100035n, 0, 'DecimalSI'],
      ['0.001', 1n, -3, 'DecimalSI'],
      ['0.0005k', 5n, -1, 'DecimalSI'],
      ['0.005', 5n, -3, 'DecimalSI'],
      ['0.05', 5n, -2, 'DecimalSI'],
      ['0.5', 5n, -1, 'DecimalSI'],
      ['0.00050k', 5n, -1, 'DecimalSI'],
      ['0.00500', 5n, -3, 'DecimalSI'],
      ['0.05000', 5n, -2, 'DecimalSI'],
      ['0.50000', 5n, -1, 'DecimalSI'],
      ['0.5e0', 5n, -1, 'DecimalExponent'],
      ['0.5e-1', 5n, -2, 'DecimalExponent'],
      ['0.5e-2', 5n, -3, 'DecimalExponent'],
      ['10.035M', 10035n, 3, 'DecimalSI'],
      ['1.2e3', 12n, 2, 'DecimalExponent'],
      ['1.3E+6', 13n, 5, 'DecimalExponent'],
      ['1.40e9', 14n, 8, 'DecimalExponent'],
      ['1.53E12', 153n, 10, 'DecimalExponent'],
      ['1.6e15', 16n, 14, 'DecimalExponent'],
      ['1.7E18', 17n, 17, 'DecimalExponent'],
      ['9.01', 901n, -2, 'DecimalSI'],
      ['8.1k', 81n, 2, 'DecimalSI'],
      ['7.123456M', 7123456n, 0, 'DecimalSI'],
      ['6.987654321G', 6987654321n, 0, 'DecimalSI'],
      ['5.444T', 5444n, 9, 'DecimalSI'],
      ['40.1T', 401n, 11, 'DecimalSI'],
      ['300.2T', 3002n, 11, 'DecimalSI'],
      ['2.5P', 25n, 14, 'DecimalSI'],
      ['1.01E', 101n, 16, 'DecimalSI'],
      ['3.001n', 4n, -9, 'DecimalSI'],
      ['1.1E-9', 2n, -9, 'DecimalExponent'],
      ['0.0000000001', 1n, -9, 'DecimalSI'],
      ['0.0000000005', 1n, -9, 'DecimalSI'],
      ['0.00000000050', 1n, -9, 'DecimalSI'],
      ['0.5e-9', 1n, -9, 'DecimalExponent'],
      ['0.9n', 1n, -9, 'DecimalSI'],
      ['0.00000012345', 124n, -9, 'DecimalSI'],
      ['0.00000012354', 124n, -9, 'DecimalSI'],
      ['9Ei', 9223372036854775807n, 0, 'BinarySI'],
      ['9223372036854775807Ki', 9223372036854775807n, 0, 'BinarySI'],
      ['12E', 12n, 18, 'DecimalSI'],
      ['100.035Ki', 10243584n, -2, 'BinarySI'],
      ['0.5Mi', 524288n, 0, 'BinarySI'],
      ['0.05Gi', 536870912n, -1, 'BinarySI'],
      ['0.025Ti', 274877906944n, -1, 'BinarySI'],
      ['0.000000000001Ki', 2n, -9, 'DecimalSI'],
      ['.001', 1n, -3, 'DecimalSI'],
      ['.0001k', 100n, -3, 'DecimalSI'],
      ['1.', 1n, 0, 'DecimalSI'],
      ['1.G', 1n, 9, 'DecimalSI'],
    ];
    for (const [input, value, scale, format] of table) {
      expectQuantity(input, value, scale, format);
      expectQuantity(`-${input}`, -value, scale, format);
      expectQuantity(`+${input}`, value, scale, format);
    }
    for (const input of [
      '1.1.M',
      '1+1.0M',
      '0.1mi',
      '0.1am',
      'aoeu',
      '.5i',
      '1i',
      '-3.01i',
      '-3.01e-',
      ' 1',
      '1 ',
      '',
    ]) {
      expect([input, cel.run(`isQuantity('${input}')`)]).toEqual([input, { ok: true, value: false }]);
    }
  });

  // resource's TestQuantityParseEmit, TestQuantityString (the alternates), TestParseQuantity
  // (AsInt64 and the canonical form) and TestStringQuantityAsApproximateFloat64.
  it('keeps resource’s representation: canonical form, AsInt64, AsApproximateFloat64', () => {
    const emit: [string, string][] = [
      ['1Ki', '1Ki'],
      ['1Mi', '1Mi'],
      ['1Gi', '1Gi'],
      ['1024Mi', '1Gi'],
      ['1000M', '1G'],
      ['.001Ki', '1024m'],
      ['.000001Ki', '1024u'],
      ['.000000001Ki', '1024n'],
      ['.000000000001Ki', '2n'],
      ['1024Mi', '1Gi'],
      ['307200Ki', '300Mi'],
      ['1025024Mi', '1001Gi'],
      ['1024Gi', '1Ti'],
      ['5000m', '5'],
      ['0.5', '500m'],
      ['1000M', '1G'],
      ['0.001T', '1G'],
      ['1000u', '1m'],
      ['1.08', '1080m'],
      ['1080000000n', '1080m'],
      ['.001e12', '1e9'],
      ['0.001e0', '1e-3'],
      ['1000e-12', '1e-9'],
      ['00', '0'],
    ];
    for (const [input, canonical] of emit) {
      expect([input, quantityString(parseQuantity(input))]).toEqual([input, canonical]);
      if (canonical !== '0') expect(quantityString(parseQuantity(`-${input}`))).toBe(`-${canonical}`);
    }
    const asInt64: [string, bigint | undefined, string?][] = [
      ['-999999999999999999', -999999999999999999n],
      ['999999999999999999', 999999999999999999n],
      ['-999999999999999999.0', undefined, '-999999999999999999'],
      ['999999999999999999.1', undefined, '999999999999999999100m'],
      ['9999999999999999999', undefined],
      ['1E', 1000000000000000000n],
      ['-1E', -1000000000000000000n],
      ['1000000000000000000', undefined, '1E'],
      ['1.0E', 1000000000000000000n, '1E'],
      ['9999999999999999999000m', undefined, '9999999999999999999'],
      ['1.0000000000000000001E', undefined, '1000000000000000000100m'],
      ['1.000000000000000001E', undefined, '1000000000000000001'],
      ['10E', undefined],
      ['10000000000000000000', undefined, '10E'],
      ['10.0000000000000000001E', undefined, '10000000000000000000100m'],
      ['9223372036854775807', undefined],
      ['-9223372036854775808', undefined],
      ['9223372036854775807000m', undefined, '9223372036854775807'],
      ['9223372036854775808.1', undefined, '9223372036854775808100m'],
    ];
    for (const [input, int, canonical] of asInt64) {
      const q = parseQuantity(input);
      expect([input, quantityAsInt64(q), quantityString(q)]).toEqual([input, int, canonical ?? input]);
    }
    const floats: [string, number][] = [
      ['2Ki', 2048],
      ['1.1Ki', 1126.4],
      ['1Mi', 1.048576e6],
      ['2Gi', 2.147483648e9],
    ];
    for (const [input, f] of floats) expect(quantityAsApproximateFloat64(parseQuantity(input))).toBe(f);
    // TestQuantityCmp.
    expect(compareQuantities(parseQuantity('0'), parseQuantity('0'))).toBe(0);
    expect(compareQuantities(parseQuantity('100m'), parseQuantity('50m'))).toBe(1);
    expect(compareQuantities(parseQuantity('50m'), parseQuantity('100m'))).toBe(-1);
    expect(compareQuantities(parseQuantity('10000T'), parseQuantity('100Gi'))).toBe(1);
  });

  // Each answer below was confirmed against k8s.io/apiserver v0.37.2 (cel-go v0.29.2).
  it('answers as kube where resource’s representation shows', () => {
    cel.expectTrue([
      // An inf.Dec is never an integer, whatever its value.
      "!quantity('1.5Gi').isInteger()",
      "quantity('1536Mi').isInteger()",
      "quantity('1.5Gi') == quantity('1536Mi')",
      "!quantity('1000m').isInteger()",
      "!quantity('1Ei').isInteger() && !quantity('100Ti').isInteger()",
      "!quantity('9223372036854775807').isInteger()",
      "quantity('999999999999999999').asInteger() == 999999999999999999",
      "quantity('1E').asInteger() == 1000000000000000000",
      "quantity('1Ki').add(quantity('1Ki')).asInteger() == 2048",
      "!quantity('9223372036854775').add(9223372036854775807).isInteger()",
      // BinarySI saturates at MaxInt64; values round up to the nano.
      "quantity('9Ei') == quantity('9223372036854775807')",
      "quantity('0.0000000001') == quantity('1n')",
      "quantity('3.001n').asApproximateFloat() == 4e-9",
      "quantity('1e-400').asApproximateFloat() == 1e-9",
      "quantity('.5e-10') == quantity('1n')",
      // asApproximateFloat is the unscaled value times Go's math.Pow10.
      "quantity('1.5Gi').asApproximateFloat() == 1610612736.0",
      "quantity('-1.1Ki').asApproximateFloat() == -1126.4",
      "quantity('0.1').asApproximateFloat() == 0.1",
      "quantity('1e308').asApproximateFloat() == 1e308",
      // sign() is a global function in kube.
      "sign(quantity('-1.5Gi')) == -1 && sign(quantity('0')) == 0 && sign(quantity('5n')) == 1",
      "sign(quantity('-0')) == 0",
      // Odd inputs resource accepts.
      "quantity('.') == quantity('0') && isQuantity('+.')",
      "quantity('1e4294967296') == quantity('1')",
      // The int64 path negates as Go does: 1 - MinInt64 is 1 + MinInt64.
      "quantity('1').sub(-9223372036854775808).asInteger() == -9223372036854775807",
      // Exact arithmetic past int64.
      "quantity('1').add(quantity('1e1000')).compareTo(quantity('1e1000')) == 1",
      "quantity('1e1000').sub(quantity('1e1000')) == quantity('0')",
      "type(quantity('1')) == type(quantity('2'))",
      "[quantity('1'), quantity('1000m')].exists(x, x == quantity('1.0'))",
      "quantity('1') in [quantity('1000m')]",
      "!(quantity('1') == quantity('1.000000001'))",
    ]);
    expect(cel.value("quantity('1e309').asApproximateFloat()")).toBe(Infinity);
    expect(cel.value("quantity('12345678901234567890123e300').asApproximateFloat()")).toBe(Infinity);
    cel.expectErrors({
      "quantity('1m').asInteger()": 'cannot convert value to integer',
      "quantity('1Ei').asInteger()": 'cannot convert value to integer',
      "quantity('Three')": FORMAT_WRONG,
      "quantity('')": FORMAT_WRONG,
      "quantity(' 1')": FORMAT_WRONG,
      "quantity('1e')": SUFFIX,
      "quantity('0.1mi')": SUFFIX,
      "quantity('1e9223372036854775808')": SUFFIX,
      "quantity('-.e-10')": NUMERIC,
      // resource divides by pow10Int64 of a negative (wrapped int32) scale: Go panics.
      "quantity('1e2147483647').compareTo(quantity('1n'))":
        'internal error: runtime error: integer divide by zero',
    });
  });

  // resource's Cmp calls AsDec on its receiver: comparing with an inf.Dec turns an int64
  // receiver into one, for good (confirmed against kube). `==` compares copies.
  it('converts the receiver of a comparison with an inf.Dec, as kube does', () => {
    cel.expectTrue([
      "[quantity('1')].all(q, q.isInteger() && q.compareTo(quantity('1.5Gi')) == -1 && !q.isInteger())",
      "[quantity('1')].all(q, q.isLessThan(quantity('1.5Gi')) && !q.isInteger() && !q.add(1).isInteger())",
      "[quantity('1')].all(q, !q.isGreaterThan(quantity('9999999999999999999')) && !q.isInteger())",
      "[quantity('1')].all(q, !q.isLessThan(quantity('0.5')) && q.isInteger())",
      "[quantity('1')].all(q, quantity('1.5Gi').compareTo(q) == 1 && q.isInteger())",
      "[quantity('1')].all(q, !(q == quantity('1.5Gi')) && q.isInteger())",
      "[quantity('1')].all(q, q.compareTo(quantity('1.5Gi')) == -1 && q.asApproximateFloat() == 1.0)",
    ]);
  });

  it('refuses a power of ten past 10^100000, where kube would compute billions of digits', () => {
    expect(cel.run("quantity('1234567890123456789e2000000000')")).toEqual({
      ok: false,
      error: 'quantity out of range: computing it exactly needs 10^2000000009, past 10^100000',
    });
    // Comparisons and rounding need no such power.
    cel.expectTrue([
      "quantity('1e2000000000').compareTo(quantity('1')) == 1",
      "quantity('1234567890123456789e-2000000000') == quantity('1n')",
    ]);
  });

  it('evaluates in tokenwarden’s claim expressions', () => {
    const claims = toCelClaims({ memory: '1536Mi', cpu: '250m' });
    const rule = compileExpression(
      "quantity(claims.memory).isGreaterThan(quantity('1Gi')) && quantity(claims.cpu).compareTo(quantity('0.25')) == 0",
      'claims',
      'bool',
    );
    expect(rule.evaluate(claims)).toEqual({ ok: true, value: true });
    expect(
      compileExpression('quantity(claims.cpu).add(1).asApproximateFloat()', 'claims', 'any').evaluate(claims),
    ).toEqual({ ok: true, value: 1.25 });
    expect(() => compileExpression('quantity(claims.memory)', 'claims', 'bool')).toThrow(
      'must evaluate to bool',
    );
    // kube refuses `q.sign()` when it compiles (sign is a global function); here it fails when run.
    expect(compileExpression("quantity('1').sign()", 'claims', 'any').evaluate(claims).ok).toBe(false);
  });
});
