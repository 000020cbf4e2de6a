import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuthnResult, TokenAuthenticator } from '../../src/authn/authenticator.js';
import type { KeySource } from '../../src/keys/key-source.js';
import { mintToken, boundClaims } from './tokens.js';
import { rsaKey } from './keys.js';

/** Tokens no authenticator should claim: not JWTs, JWTs of nobody's issuer, hostile shapes. */
export const FOREIGN_TOKENS: readonly string[] = [
  'hello',
  'a.b.c',
  '...',
  '{"payload":"e30","signatures":[]}',
  '\u0000',
  'x'.repeat(20_000),
  '.'.repeat(10_000),
];

/**
 * The contract every TokenAuthenticator keeps (as hono's common cases):
 * a token that is not its own gets `no-opinion`, garbage never throws, and concurrent
 * calls all settle. `foreign` adds tokens this authenticator must not claim.
 */
export function runAuthenticatorContract(
  name: string,
  factory: () => TokenAuthenticator,
  options: { foreign?: readonly string[] } = {},
): void {
  describe(`${name} (authenticator contract)`, () => {
    const foreignJwt = mintToken({
      key: rsaKey('contract-stranger'),
      claims: boundClaims({ iss: 'https://nobody.example' }),
    });

    it('has no opinion on tokens that are not its own', async () => {
      const authn = factory();
      for (const token of [...FOREIGN_TOKENS, foreignJwt, ...(options.foreign ?? [])]) {
        expect((await authn.authenticateToken(token, [])).outcome, JSON.stringify(token.slice(0, 40))).toBe(
          'no-opinion',
        );
      }
    });

    it('never throws and never authenticates garbage (property)', async () => {
      const authn = factory();
      await fc.assert(
        fc.asyncProperty(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.array(fc.string(), { maxLength: 3 }),
          async (token, auds) => {
            const r: AuthnResult = await authn.authenticateToken(token, auds);
            expect(r.outcome).not.toBe('authenticated');
          },
        ),
        { numRuns: 200 },
      );
    });

    it('settles every one of many concurrent calls', async () => {
      const authn = factory();
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          authn.authenticateToken(i % 2 ? foreignJwt : `garbage-${i}`, ['api']),
        ),
      );
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    });
  });
}

/**
 * The contract every KeySource keeps once loaded: a frozen snapshot whose `byKid` is a
 * Map (a hostile kid never reaches a prototype), refreshForKid that resolves, onChange
 * that unsubscribes, health that names the source, close that may be called twice.
 */
export function runKeySourceContract(name: string, factory: () => KeySource | Promise<KeySource>): void {
  describe(`${name} (key source contract)`, () => {
    it('offers a frozen snapshot whose keys are indexed by kid in a Map', async () => {
      const source = await factory();
      const snap = source.snapshot();
      expect(snap).toBeDefined();
      expect(Object.isFrozen(snap)).toBe(true);
      expect(snap!.byKid).toBeInstanceOf(Map);
      for (const key of snap!.keys) expect(snap!.byKid.get(key.kid)).toContain(key);
      source.close();
    });

    it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
      'finds no key for the kid %s',
      async (kid) => {
        const source = await factory();
        expect(source.snapshot()!.byKid.get(kid)).toBeUndefined();
        source.close();
      },
    );

    it('resolves refreshForKid, unsubscribes listeners and closes twice without error', async () => {
      const source = await factory();
      await source.refreshForKid('unknown-kid');
      const off = source.onChange(() => {});
      expect(typeof off).toBe('function');
      off();
      expect(source.health()).toMatchObject({ name: source.name, ready: true });
      expect(source.health().keyCount).toBe(source.snapshot()!.keys.length);
      source.close();
      source.close();
    });
  });
}
