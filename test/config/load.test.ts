import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type ResolvedConfig } from '../../src/config/load.js';
import { optionsFor } from '../../src/config/schema.js';
import { TokenwardenError } from '../../src/errors.js';
import { suiteDir, writeFile } from '../helpers/files.js';

/**
 * loadConfig over hostile flags and `--config` files (issue 15, property tests): it
 * either returns a frozen, well-formed configuration or throws the one config error,
 * whose message names the flag or the file; nothing else ever escapes.
 */

const files = suiteDir();
afterAll(() => files.remove());
const readable = writeFile(files.dir, 'readable.pem', 'x');
const names = optionsFor('serve').map((s) => s.name);

const value = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '-1',
    '1',
    '1023',
    '65535',
    '65536',
    '9007199254740993',
    '1e3',
    '0x10',
    '10s',
    '1h30m',
    '-5s',
    '1.5s',
    '99999999999h',
    'true',
    'false',
    'accept',
    'reject',
    'debug',
    'a,b',
    ',,',
    'https://issuer.example',
    'https://issuer.example=https://keys.example/jwks',
    'http://insecure.example',
    '=x',
    readable,
    '/nonexistent/file',
    '\u0000',
    '__proto__',
  ),
  fc.string({ maxLength: 12 }),
);

/** One argument group: `--name value`, `--name=value` or a bare `--name`, sometimes unknown. */
const flag = fc
  .tuple(
    fc.oneof(
      { weight: 9, arbitrary: fc.constantFrom(...names) },
      { weight: 1, arbitrary: fc.constantFrom('nope', 'h', '') },
    ),
    value,
    fc.constantFrom('separate', 'equals', 'bare'),
  )
  .map(([name, v, form]) =>
    form === 'separate' ? [`--${name}`, v] : form === 'equals' ? [`--${name}=${v}`] : [`--${name}`],
  );
const argv = fc.array(flag, { maxLength: 6 }).map((groups) => groups.flat());

function expectWellFormed(c: ResolvedConfig): void {
  expect(Object.isFrozen(c)).toBe(true);
  expect(Number.isInteger(c.securePort) && c.securePort >= 0 && c.securePort <= 65535).toBe(true);
  for (const ms of [c.cacheTtlMs, c.negativeCacheTtlMs, c.shutdownDelayMs, c.shutdownTimeoutMs]) {
    expect(Number.isFinite(ms) && ms >= 0).toBe(true);
  }
  expect(Number.isSafeInteger(c.cacheSize) && c.cacheSize >= 1).toBe(true);
  expect(Number.isSafeInteger(c.maxRequestBytes) && c.maxRequestBytes >= 1024).toBe(true);
  expect(new Set(c.serviceAccountIssuers).size).toBe(c.serviceAccountIssuers.length);
  expect(c.serviceAccountIssuers.every((i) => typeof i === 'string' && i !== '')).toBe(true);
  expect(c.apiAudiences.every((a) => typeof a === 'string' && a !== '')).toBe(true);
  expect(['reject', 'accept']).toContain(c.legacyTokens);
  for (const u of c.serviceAccountJwksUris) expect(new URL(u.value).protocol).toBe('https:');
  expect((c.tlsCertFile === undefined) === (c.tlsPrivateKeyFile === undefined)).toBe(true);
  expect(c.workers === 'auto' || (Number.isInteger(c.workers) && c.workers >= 1 && c.workers <= 64)).toBe(
    true,
  );
}

/** Runs loadConfig; a config error must name what is wrong, anything else fails the property. */
function load(args: string[], namesIn: readonly string[]): void {
  let config: ResolvedConfig;
  try {
    config = loadConfig('serve', args);
  } catch (err) {
    expect(err).toBeInstanceOf(TokenwardenError);
    expect((err as TokenwardenError).code).toBe('ERR_CONFIG_INVALID');
    const message = (err as Error).message;
    expect(
      namesIn.some((n) => message.includes(n)),
      message,
    ).toBe(true);
    return;
  }
  expectWellFormed(config);
}

describe('loadConfig (properties)', () => {
  it('returns a well-formed configuration or a config error naming a flag, whatever the flags', () => {
    fc.assert(
      fc.property(argv, (args) => load(args, [files.dir, '--', "'-"])),
      { numRuns: 1000 },
    );
  });

  it('returns a well-formed configuration or a config error naming the file, whatever the --config file holds', () => {
    const yamlValue = fc.oneof(value, fc.jsonValue({ maxDepth: 2 }));
    const document = fc.oneof(
      fc
        .dictionary(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 6 })), yamlValue, {
          maxKeys: 4,
        })
        .map((d) => JSON.stringify(d)),
      fc.constantFrom(
        'secure-port: &p 8443\ncache-size: *p',
        '<<: {secure-port: 1}',
        'secure-port: !!str 5',
        'cache-ttl: 1e999',
        '? [a]\n: 1',
        'secure-port: 1\nsecure-port: 2',
        '- a\n- b',
        '"just a string"',
        'service-account-issuer: [a, a]',
        '\t: x',
        'a: &a [*a]',
      ),
      fc.string({ maxLength: 40 }),
    );
    let n = 0;
    fc.assert(
      fc.property(document, argv, (text, args) => {
        const path = writeFile(files.dir, `config-${n++}.yaml`, text);
        // A --config among the random flags wins; every file the flags can name lives in files.dir.
        load(['--config', path, ...args], [files.dir, '--', "'-"]);
      }),
      { numRuns: 400 },
    );
  });
});

describe('loadConfig --workers', () => {
  const flags = (v: string) => ['--workers', v];

  it('takes auto or a whole number from 1 to 64, and 1 by default', () => {
    expect(loadConfig('serve', []).workers).toBe(1);
    expect(loadConfig('serve', flags('auto')).workers).toBe('auto');
    expect(loadConfig('serve', flags('1')).workers).toBe(1);
    expect(loadConfig('serve', flags('64')).workers).toBe(64);
    expect(
      loadConfig('serve', ['--config', writeFile(files.dir, 'workers.yaml', 'workers: 3\n')]).workers,
    ).toBe(3);
  });

  it.each(['0', '-1', 'x', '65', '1.5', '', ' 2', '0x2', 'Auto'])('refuses %j naming --workers', (v) => {
    expect(() => loadConfig('serve', [`--workers=${v}`])).toThrow(
      /^--workers: must be auto or a whole number from 1 to 64/,
    );
  });

  it('refuses a bad value in the --config file naming the file and key', () => {
    const path = writeFile(files.dir, 'workers-bad.yaml', 'workers: 0\n');
    expect(() => loadConfig('serve', ['--config', path])).toThrow(`${path}: workers: must be auto`);
  });
});

describe('loadConfig --config', () => {
  it('refuses a --config that cannot be read, naming the flag and the path', () => {
    expect(() => loadConfig('serve', ['--config', files.dir])).toThrow(
      `--config: cannot read ${files.dir} (EISDIR)`,
    );
    const missing = `${files.dir}/absent.yaml`;
    expect(() => loadConfig('serve', ['--config', missing])).toThrow(
      `--config: cannot read ${missing} (ENOENT)`,
    );
  });
});
