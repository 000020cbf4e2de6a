import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manualClock } from '../src/clock.js';
import { createProjectedTokenSource } from '../src/projected-token.js';
import { tempDir } from './helpers/files.js';
import { b64url } from './helpers/tokens.js';

const jwt = (exp: number, tag: string) =>
  `${b64url('{"alg":"RS256"}')}.${b64url(JSON.stringify({ exp, tag }))}.c2ln`;

/** The kubelet's AtomicWriter: each version in its own timestamped directory, `..data` swapped by rename. */
function kubeletVolume(dir: string) {
  let n = 0;
  const publish = (token: string) => {
    const version = `..2026_12_06_05_00_0${n++}.123`;
    mkdirSync(join(dir, version));
    writeFileSync(join(dir, version, 'token'), token);
    symlinkSync(version, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  return {
    publish(token: string) {
      publish(token);
      if (n === 1) symlinkSync('..data/token', join(dir, 'token'));
    },
    path: join(dir, 'token'),
  };
}

describe('projected token source', () => {
  it('re-reads the token when the kubelet swaps the ..data symlink', () => {
    const clock = manualClock(1_800_000_000_000);
    const volume = kubeletVolume(tempDir());
    const first = jwt(1_800_000_600, 'first');
    volume.publish(`${first}\n`);
    const source = createProjectedTokenSource(volume.path, { clock });
    expect(source.token()).toBe(first);
    expect(source.token()).toBe(first);
    const second = jwt(1_800_003_600, 'second');
    volume.publish(second);
    expect(source.token()).toBe(second);
  });

  it('never hands out an expired token', () => {
    const clock = manualClock(1_800_000_000_000);
    const volume = kubeletVolume(tempDir());
    volume.publish(jwt(1_800_000_600, 'only'));
    const source = createProjectedTokenSource(volume.path, { clock, expiryLeewayMs: 10_000 });
    expect(source.token()).toContain('.');
    clock.set(1_800_000_590_001);
    expect(() => source.token()).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_EXPIRED' }));
    // The kubelet catches up: the new token is served at once.
    const renewed = jwt(1_800_004_200, 'renewed');
    volume.publish(renewed);
    expect(source.token()).toBe(renewed);
  });

  it('says which file it cannot read', () => {
    const source = createProjectedTokenSource(join(tempDir(), 'missing'));
    expect(() => source.token()).toThrow(/missing: cannot read the token \(ENOENT\)/);
  });
});
