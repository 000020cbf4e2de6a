import { describe, expect, it } from 'vitest';
import { parseBearer } from '../../src/authn/bearer.js';

describe('parseBearer', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER abc', 'abc'],
    ['  Bearer abc \n', 'abc'],
    ['Bearer a b', 'a'],
    ['Bearer a b c d', 'a'],
  ])("reads %j as kube's bearertoken does", (header, token) => {
    expect(parseBearer(header)).toBe(token);
  });

  it.each([
    [''],
    ['   '],
    ['Bearer'],
    ['Bearer '],
    ['Bearer  abc'],
    ['Basic abc'],
    ['Bearerabc'],
    ['Bearer\tabc'],
  ])('finds no credential in %j', (header) => {
    expect(parseBearer(header)).toBeUndefined();
  });
});
