import { describe, expect, it } from 'vitest';
import { runKeySourceContract } from '../helpers/contracts.js';
import { ecKey, rsaKey, staticSource } from '../helpers/keys.js';

describe('StaticKeySource', () => {
  it('holds its keys in order, ready at once', () => {
    const source = staticSource(rsaKey(), ecKey('P-256'));
    expect(source.snapshot().keys.map((k) => k.kid)).toEqual([rsaKey().kid, ecKey('P-256').kid]);
    expect(source.health()).toMatchObject({ ready: true, keyCount: 2, loads: 1, loadFailures: 0 });
  });
});

runKeySourceContract('StaticKeySource', () => staticSource(rsaKey(), ecKey('P-256')));
