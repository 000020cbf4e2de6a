import { describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { audienceAgnostic } from '../../src/authn/audiences.js';
import { parseCsv, parseTokenFile, staticTokenAuthenticator } from '../../src/authn/static-token.js';
import { buildAuthentication } from '../../src/compose/authentication.js';
import { authenticationOptions } from '../../src/config/options.js';
import { loadConfig, requireTokenSettings } from '../../src/config/load.js';
import { replaceFile, tempDir, writeFile } from '../helpers/files.js';
import { captureLogs } from '../helpers/logs.js';
import { NOW_MS } from '../helpers/tokens.js';

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

  it('is first in the chain, gets system:authenticated, and a reload takes effect at once, over cached answers too', async () => {
    const dir = tempDir();
    const path = writeFile(dir, 'tokens.csv', 'secret-a,alice,1,dev\n');
    const audience = 'https://kubernetes.default.svc';
    const config = loadConfig('serve', [`--token-auth-file=${path}`, `--api-audiences=${audience}`]);
    requireTokenSettings(config);
    const logs = captureLogs();
    const chain = buildAuthentication(authenticationOptions(config), {
      clock: manualClock(NOW_MS),
      watch: true,
      logger: logs.logger,
    });
    // The review chain, cache included, as every TokenReview and proxied request goes.
    const review = (token: string) => chain.authenticator.authenticateToken(token, [audience]);
    const fileEvent = (msg: string) => logs.next((l) => l.what === 'token-auth-file' && l.msg === msg);
    try {
      const alice = {
        outcome: 'authenticated',
        user: { username: 'alice', uid: '1', groups: ['dev', 'system:authenticated'] },
        audiences: [audience],
      };
      expect(await review('secret-a')).toEqual(alice);
      expect(await review('secret-a')).toEqual(alice);
      expect(chain.authenticator.stats().hits).toBe(1);

      const reloaded = fileEvent('reloaded');
      replaceFile(path, 'secret-b,bob,2\nsecret-c,carol,3\n');
      await reloaded;
      expect(await review('secret-a')).toEqual({ outcome: 'no-opinion' });
      expect(await review('secret-b')).toMatchObject({ outcome: 'authenticated', user: { username: 'bob' } });

      // A broken edit keeps the last good table: a token never asked about before still authenticates.
      const failed = fileEvent('reload failed; keeping the last good version');
      replaceFile(path, 'only,two\n');
      expect((await failed).err).toMatch(/at least 3 columns/);
      expect(await review('secret-c')).toMatchObject({
        outcome: 'authenticated',
        user: { username: 'carol' },
      });
      expect(await review('secret-a')).toEqual({ outcome: 'no-opinion' });
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
