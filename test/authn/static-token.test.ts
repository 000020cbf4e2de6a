import { describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { audienceAgnostic } from '../../src/authn/audiences.js';
import { parseCsv, parseTokenFile, staticTokenAuthenticator } from '../../src/authn/static-token.js';
import { buildAuthentication } from '../../src/compose/authentication.js';
import { authenticationOptions } from '../../src/config/options.js';
import { loadConfig, requireTokenSettings } from '../../src/config/load.js';
import { replaceFile, tempDir, writeFile } from '../helpers/files.js';
import { NOW_MS } from '../helpers/tokens.js';
import { vi } from 'vitest';

const FILE = [
  'token1,alice,uid-1,"system:masters,dev"',
  'token2,bob,uid-2',
  '',
  ',nobody,uid-0',
  '"tok,en3",carol,uid-3,"a,b ,c"',
  'token2,bob-again,uid-22,ops',
].join('\n');

describe('static token file (--token-auth-file)', () => {
  it('parses CSV as Go encoding/csv does', () => {
    expect(parseCsv('a,"b,c","d""e"\r\n\n x ,y\n', 'f')).toEqual([
      ['a', 'b,c', 'd"e'],
      [' x ', 'y'],
    ]);
    expect(parseCsv('"multi\nline",z', 'f')).toEqual([['multi\nline', 'z']]);
    expect(() => parseCsv('a"b,c', 'f')).toThrow(/bare " in non-quoted-field/);
    expect(() => parseCsv('"abc', 'f')).toThrow(/extraneous or missing "/);
  });

  it('maps rows to users as tokenfile.go does: groups split on commas, empty token skipped, last duplicate wins', async () => {
    const table = parseTokenFile(FILE, 'tokens.csv');
    expect(table.warnings).toHaveLength(2);
    expect(table.warnings.join(' ')).not.toMatch(/token1|token2/);
    const authn = staticTokenAuthenticator(() => table);
    expect(await authn.authenticateToken('token1', [])).toEqual({
      outcome: 'authenticated',
      user: { username: 'alice', uid: 'uid-1', groups: ['system:masters', 'dev'] },
      audiences: [],
    });
    expect(await authn.authenticateToken('tok,en3', [])).toMatchObject({
      user: { groups: ['a', 'b ', 'c'] },
    });
    expect(await authn.authenticateToken('token2', [])).toMatchObject({
      user: { username: 'bob-again', groups: ['ops'] },
    });
    expect(await authn.authenticateToken('', [])).toEqual({ outcome: 'no-opinion' });
    expect(await authn.authenticateToken('token', [])).toEqual({ outcome: 'no-opinion' });
    expect(await authn.authenticateToken('token1 ', [])).toEqual({ outcome: 'no-opinion' });
  });

  it('refuses a row with fewer than three columns, naming the file', () => {
    expect(() => parseTokenFile('tok,user\n', 'tokens.csv')).toThrow(
      'tokens.csv: token file must have at least 3 columns (token, user name, user uid), found 2',
    );
  });

  it('is audience-agnostic as kube wraps it: only the API audiences, reported back', async () => {
    const authn = audienceAgnostic(
      staticTokenAuthenticator(() => parseTokenFile(FILE, 'f')),
      ['api', 'other'],
    );
    expect(await authn.authenticateToken('token1', [])).toMatchObject({ audiences: ['api', 'other'] });
    expect(await authn.authenticateToken('token1', ['other', 'x'])).toMatchObject({ audiences: ['other'] });
    expect(await authn.authenticateToken('token1', ['vault'])).toEqual({ outcome: 'no-opinion' });
  });

  it('is first in the chain, gets system:authenticated, and reloads when the file changes', async () => {
    const dir = tempDir();
    const path = writeFile(dir, 'tokens.csv', 'secret-a,alice,1,dev\n');
    const config = loadConfig('serve', [
      `--token-auth-file=${path}`,
      '--api-audiences=https://kubernetes.default.svc',
    ]);
    requireTokenSettings(config);
    const chain = buildAuthentication(authenticationOptions(config), {
      clock: manualClock(NOW_MS),
      watch: true,
    });
    try {
      expect(
        await chain.authenticator.authenticateToken('secret-a', ['https://kubernetes.default.svc']),
      ).toEqual({
        outcome: 'authenticated',
        user: { username: 'alice', uid: '1', groups: ['dev', 'system:authenticated'] },
        audiences: ['https://kubernetes.default.svc'],
      });
      replaceFile(path, 'secret-b,bob,2\n');
      await vi.waitFor(
        async () =>
          expect((await chain.uncached.authenticateToken('secret-b', [])).outcome).toBe('authenticated'),
        { timeout: 5_000, interval: 20 },
      );
      expect((await chain.uncached.authenticateToken('secret-a', [])).outcome).not.toBe('authenticated');
      // A broken edit keeps the last good table.
      replaceFile(path, 'only,two\n');
      await new Promise((r) => setTimeout(r, 200));
      expect((await chain.uncached.authenticateToken('secret-b', [])).outcome).toBe('authenticated');
    } finally {
      chain.close();
    }
  });

  it('fails the start on an invalid file', () => {
    const path = writeFile(tempDir(), 'tokens.csv', 'a"b,c,d\n');
    const config = loadConfig('serve', [`--token-auth-file=${path}`]);
    expect(() =>
      buildAuthentication(authenticationOptions(config), { clock: manualClock(NOW_MS), watch: false }),
    ).toThrow(/--token-auth-file: line 1: bare "/);
  });
});
