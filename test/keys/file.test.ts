import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TokenwardenError } from '../../src/errors.js';
import type { KeySnapshot } from '../../src/keys/key-source.js';
import { FileKeySource } from '../../src/keys/file.js';
import { replaceFile, tempDir, writeFile } from '../helpers/files.js';
import { ecKey, rsaKey, type TestKey } from '../helpers/keys.js';
import { runKeySourceContract } from '../helpers/contracts.js';
import { captureLogs } from '../helpers/logs.js';

const pems = (...keys: TestKey[]) => keys.map((k) => k.publicPem).join('');
const kids = (s: KeySnapshot) => s.keys.map((k) => k.kid);

function source(paths: string[], options: { watch?: boolean; resyncMs?: number } = {}) {
  const logs = captureLogs();
  const src = new FileKeySource({ paths, logger: logs.logger, ...options });
  return { src, logs };
}

describe('FileKeySource', () => {
  it('loads every key of several files, in flag order', () => {
    const dir = tempDir();
    const a = writeFile(dir, 'a.pem', pems(rsaKey('a'), ecKey('P-256')));
    const b = writeFile(dir, 'b.pem', pems(rsaKey('b')));
    const { src } = source([a, b]);
    expect(kids(src.snapshot())).toEqual([rsaKey('a').kid, ecKey('P-256').kid, rsaKey('b').kid]);
    expect(src.snapshot().byKid.get(rsaKey('b').kid)?.[0]?.origin).toBe(b);
    expect(src.health()).toMatchObject({ ready: true, keyCount: 3, loads: 1, loadFailures: 0 });
    expect(src.health().lastError).toBeUndefined();
    src.close();
  });

  it('fails the first load when a file is unreadable, naming the file', () => {
    const missing = join(tempDir(), 'nope.pem');
    expect(() => new FileKeySource({ paths: [missing] })).toThrow(
      new TokenwardenError('ERR_KEY_FILE', `${missing}: cannot read key file (ENOENT)`),
    );
  });

  it('fails the first load when a file holds a weak key', () => {
    const path = writeFile(tempDir(), 'weak.pem', pems(rsaKey('small', 1024)));
    expect(() => new FileKeySource({ paths: [path] })).toThrow(/weak\.pem: RSA key of 1024 bits is too weak/);
  });

  it('refuses more than 100 keys, so a kid-less token costs a bounded number of checks', () => {
    const keys = Array.from({ length: 101 }, (_, i) => ecKey('P-256', `many-${i}`));
    const path = writeFile(tempDir(), 'many.pem', pems(...keys));
    expect(() => new FileKeySource({ paths: [path] })).toThrow(/101 keys exceed the limit of 100/);
  });

  it('swaps in a rotated key file on reload and tells its listeners', () => {
    const path = writeFile(tempDir(), 'sa.pem', pems(rsaKey('a')));
    const { src } = source([path]);
    const seen: KeySnapshot[] = [];
    src.onChange((s) => seen.push(s));
    const before = src.snapshot();

    replaceFile(path, pems(rsaKey('b'), rsaKey('a')));
    expect(src.reload()).toBe(true);
    expect(kids(src.snapshot())).toEqual([rsaKey('b').kid, rsaKey('a').kid]);
    expect(src.snapshot().generation).toBe(before.generation + 1);
    expect(seen).toEqual([src.snapshot()]);
    // The old snapshot is untouched: a verification in progress never sees half a reload.
    expect(kids(before)).toEqual([rsaKey('a').kid]);
  });

  it('does not count an unchanged file as a change', () => {
    const path = writeFile(tempDir(), 'sa.pem', pems(rsaKey('a')));
    const { src } = source([path]);
    let calls = 0;
    src.onChange(() => calls++);
    replaceFile(path, pems(rsaKey('a')));
    expect(src.reload()).toBe(false);
    expect(calls).toBe(0);
    expect(src.health().loads).toBe(2);
  });

  it('keeps the last good keys when a file turns broken during reload, and says so in health()', () => {
    const dir = tempDir();
    const path = writeFile(dir, 'sa.pem', pems(rsaKey('a')));
    const { src, logs } = source([path]);
    let calls = 0;
    src.onChange(() => calls++);

    replaceFile(path, '-----BEGIN PUBLIC KEY-----\ntruncat');
    expect(src.reload()).toBe(false);
    expect(kids(src.snapshot())).toEqual([rsaKey('a').kid]);
    expect(calls).toBe(0);
    expect(src.health()).toMatchObject({
      ready: true,
      keyCount: 1,
      loadFailures: 1,
      lastError: `${path}: data does not contain any valid RSA or ECDSA public keys`,
    });
    expect(logs.lines.some((l) => l.msg === 'key reload failed; keeping the last good keys')).toBe(true);

    rmSync(path);
    expect(src.reload()).toBe(false);
    expect(src.health().lastError).toBe(`${path}: cannot read key file (ENOENT)`);
    expect(src.health().loadFailures).toBe(2);
    expect(kids(src.snapshot())).toEqual([rsaKey('a').kid]);

    writeFile(dir, 'sa.pem', pems(rsaKey('b')));
    expect(src.reload()).toBe(true);
    expect(kids(src.snapshot())).toEqual([rsaKey('b').kid]);
    expect(src.health().lastError).toBeUndefined();
  });

  it('reloads by itself when a watched file is replaced', async () => {
    const path = writeFile(tempDir(), 'sa.pem', pems(rsaKey('a')));
    // The resync timer is a backstop for filesystems without change events.
    const { src } = source([path], { watch: true, resyncMs: 1000 });
    try {
      const changed = new Promise<KeySnapshot>((resolve) => src.onChange(resolve));
      replaceFile(path, pems(ecKey('P-384')));
      expect(kids(await changed)).toEqual([ecKey('P-384').kid]);
    } finally {
      src.close();
    }
  });

  it('answers refreshForKid with the current snapshot: files are never fetched on demand', async () => {
    const path = writeFile(tempDir(), 'sa.pem', pems(rsaKey('a')));
    const { src } = source([path]);
    expect(await src.refreshForKid()).toBe(src.snapshot());
  });
});

runKeySourceContract(
  'FileKeySource',
  () => new FileKeySource({ paths: [writeFile(tempDir(), 'sa.pub', pems(rsaKey('a'), ecKey('P-384')))] }),
);
