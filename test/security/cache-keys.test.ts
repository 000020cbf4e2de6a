import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { Attacker } from '../helpers/attack.js';
import { suiteDir, writeFile } from '../helpers/files.js';
import { rsaKey } from '../helpers/keys.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { boundClaims, ISSUER, mintToken, NOW_MS } from '../helpers/tokens.js';

/**
 * The result cache is a security boundary (RFC 8725 §2, issue 15 findings 1 and 10):
 * every value that feeds a cache key or a shared list — the token, each requested
 * audience, each group — is varied here so that naive joins collide, and the real
 * service must still answer every request with its own identity and audiences.
 */

const key = rsaKey();
const files = suiteDir();
let server: TestServer;
const attack = new Attacker(() => server);

// kube's static token CSV (Go encoding/csv): a quoted field may hold a newline and commas.
const TOKEN_FILE = [
  'newline-group-token-0001,alice,uid-a,"dev\nadmins"',
  'two-groups-token-0000002,bob,uid-b,"dev,admins"',
  'comma-group-token-000003,carol,uid-c,"dev,admins,x"',
  'one-group-token-00000004,dave,uid-d,"dev\nadmins\nx"',
].join('\n');

beforeAll(async () => {
  server = await startTestServer({
    clock: manualClock(NOW_MS),
    keys: [key],
    flags: ['--token-auth-file', writeFile(files.dir, 'tokens.csv', `${TOKEN_FILE}\n`)],
  });
});
afterAll(async () => {
  await server.close();
  files.remove();
});
afterEach(() => attack.stillServing());

describe('groups that naive joins would confuse (finding 1)', () => {
  const expected: Record<string, [string, string[]]> = {
    'newline-group-token-0001': ['alice', ['dev\nadmins']],
    'two-groups-token-0000002': ['bob', ['dev', 'admins']],
    'comma-group-token-000003': ['carol', ['dev', 'admins', 'x']],
    'one-group-token-00000004': ['dave', ['dev\nadmins\nx']],
  };

  it('answers every static token with exactly its own groups, in any order, cached or not', async () => {
    const order = Object.keys(expected);
    for (const token of [...order, ...[...order].reverse(), ...order]) {
      const [user, groups] = expected[token]!;
      const status = await attack.accepted(token);
      expect(status.user.username).toBe(user);
      expect(status.user.groups).toEqual([...groups, 'system:authenticated']);
    }
  });
});

describe('audiences that naive joins would confuse', () => {
  const forAud = (aud: string[]) =>
    mintToken({ key, claims: boundClaims({ aud, jti: JSON.stringify(aud) }) });

  it('reports exactly the audiences each token was reviewed for', async () => {
    const cases: string[][] = [['a\nb'], ['a', 'b'], ['a,b'], ['a', 'b', 'c'], ['a\nb\nc']];
    for (const auds of [...cases, ...[...cases].reverse()]) {
      const status = await attack.accepted(forAud(auds), auds);
      expect(status.audiences).toEqual(auds);
    }
  });

  it('never answers ["a,b"] or ["a\\nb"] from the answer for ["a", "b"], nor the reverse', async () => {
    const ab = forAud(['a', 'b']);
    const joined = forAud(['a,b']);
    const newline = forAud(['a\nb']);
    for (let round = 0; round < 2; round++) {
      await attack.accepted(ab, ['a', 'b']);
      await attack.refused(ab, /is invalid for the target audiences \["a,b"\]/, ['a,b']);
      await attack.refused(ab, /is invalid for the target audiences \["a\\nb"\]/, ['a\nb']);
      await attack.accepted(joined, ['a,b']);
      await attack.refused(joined, /is invalid for the target audiences \["a" "b"\]/, ['a', 'b']);
      await attack.accepted(newline, ['a\nb']);
      await attack.refused(newline, /is invalid for the target audiences \["a" "b"\]/, ['a', 'b']);
    }
  });

  it('keys the same token separately for each audience list, including none', async () => {
    const own = mintToken({ key });
    for (let round = 0; round < 2; round++) {
      expect((await attack.accepted(own)).audiences).toEqual([ISSUER]);
      await attack.refused(own, /is invalid for the target audiences \["other"\]/, ['other']);
      await attack.refused(own, /is invalid for the target audiences \[""\]/, ['']);
      expect((await attack.accepted(own, ['x', ISSUER])).audiences).toEqual([ISSUER]);
    }
  });
});

describe('tokens that naive joins would confuse', () => {
  it('never answers a token from the answer for a token it starts or ends like', async () => {
    const static1 = 'two-groups-token-0000002';
    for (let round = 0; round < 2; round++) {
      expect((await attack.accepted(static1)).user.username).toBe('bob');
      await attack.refused(`${static1}x`, 'invalid bearer token');
      await attack.refused(static1.slice(0, -1), 'invalid bearer token');
      await attack.refused(`${static1}|1:a`, 'invalid bearer token');
    }
  });
});
