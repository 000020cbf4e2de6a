import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { UnverifiedToken } from '../../../src/authn/jwt/gate.js';
import { verifyWithSnapshot } from '../../../src/authn/jwt/verify.js';
import { makeSnapshot, type Algorithm } from '../../../src/keys/key-source.js';
import { parsePemKeys } from '../../../src/keys/parse.js';

/**
 * C2SP/wycheproof signature vectors (test/fixtures/wycheproof/README.md) for every
 * algorithm tokenwarden accepts, run through the verification the authenticators use:
 * each group's PEM key through the key-file loader, each vector through
 * verifyWithSnapshot as the signature of a token whose signing input is the message.
 * Every `invalid` vector must fail and every `valid` one verify; the one `acceptable`
 * vector per RSA file (a DigestInfo without its NULL) is pinned to what we do.
 */

const DIR = fileURLToPath(new URL('../../fixtures/wycheproof/', import.meta.url));

interface Vector {
  readonly tcId: number;
  readonly comment: string;
  readonly flags: readonly string[];
  readonly msg: string;
  readonly sig: string;
  readonly result: 'valid' | 'invalid' | 'acceptable';
}

interface VectorFile {
  readonly algorithm: string;
  readonly numberOfTests: number;
  readonly testGroups: readonly { readonly publicKeyPem: string; readonly tests: readonly Vector[] }[];
}

/** The JWS algorithm each vector file exercises, from its name. */
function algorithmOf(file: string): Algorithm {
  const m = /^(rsa_signature|rsa_pss|ecdsa)_\w+?_sha(256|384|512)/.exec(file);
  if (!m) throw new Error(`no algorithm for ${file}`);
  const family = { rsa_signature: 'RS', rsa_pss: 'PS', ecdsa: 'ES' }[
    m[1] as 'rsa_signature' | 'rsa_pss' | 'ecdsa'
  ];
  return `${family}${m[2]}` as Algorithm;
}

/** What tokenwarden answers for the `acceptable` vectors: OpenSSL refuses a DigestInfo without NULL. */
const ACCEPTABLE_OUTCOME: Readonly<Record<string, boolean>> = { MissingNull: false };

/** Runs every vector of one group; returns [tcId, comment, expected, got] for each mismatch. */
function mismatches(alg: Algorithm, file: VectorFile, expectOf: (v: Vector) => boolean) {
  const found: [number, string, boolean, boolean][] = [];
  for (const group of file.testGroups) {
    const keys = parsePemKeys(group.publicKeyPem, 'wycheproof');
    expect(keys).toHaveLength(1);
    expect(keys[0]!.algorithms.has(alg)).toBe(true);
    const snapshot = makeSnapshot(keys, 1);
    for (const v of group.tests) {
      const token: UnverifiedToken = {
        alg,
        kid: undefined,
        untrustedIssuer: 'wycheproof',
        untrustedClaims: {},
        claimsProblem: undefined,
        // The authenticator reads the signing input as latin1: one byte per character.
        signingInput: Buffer.from(v.msg, 'hex').toString('latin1'),
        signature: Buffer.from(v.sig, 'hex'),
      };
      const got = verifyWithSnapshot(token, snapshot).ok;
      const expected = expectOf(v);
      if (got !== expected) found.push([v.tcId, v.comment, expected, got]);
    }
  }
  return found;
}

function outcomeOf(v: Vector): boolean {
  if (v.result !== 'acceptable') return v.result === 'valid';
  const pinned = v.flags.map((f) => ACCEPTABLE_OUTCOME[f]).find((o) => o !== undefined);
  if (pinned === undefined)
    throw new Error(`tcId ${v.tcId}: no pinned outcome for flags ${v.flags.join(',')}`);
  return pinned;
}

const load = (name: string): VectorFile => JSON.parse(readFileSync(`${DIR}${name}`, 'utf8')) as VectorFile;
const files = readdirSync(DIR).filter((f) => f.endsWith('_test.json'));
const jwsFiles = files.filter((f) => f.startsWith('rsa_') || f.endsWith('_p1363_test.json'));
const derFiles = files.filter((f) => f.startsWith('ecdsa_') && !f.endsWith('_p1363_test.json'));

describe('Wycheproof vectors through verifyWithSnapshot', () => {
  it('covers every accepted algorithm, RSA 2048 to 8192 bits', () => {
    expect(new Set(jwsFiles.map(algorithmOf))).toEqual(
      new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']),
    );
    expect(jwsFiles.filter((f) => f.startsWith('rsa_signature_8192'))).toHaveLength(3);
  });

  it.each(jwsFiles)('%s: every invalid vector refused, every valid one accepted', (name) => {
    const file = load(name);
    const count = file.testGroups.reduce((n, g) => n + g.tests.length, 0);
    expect(count).toBe(file.numberOfTests);
    expect(mismatches(algorithmOf(name), file, outcomeOf)).toEqual([]);
  });

  it.each(derFiles)('%s: refuses every DER-encoded signature, valid ones included', (name) => {
    const file = load(name);
    expect(file.testGroups.some((g) => g.tests.some((t) => t.result === 'valid'))).toBe(true);
    expect(mismatches(algorithmOf(name), file, () => false)).toEqual([]);
  });
});
