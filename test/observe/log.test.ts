import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { batchBytes, batchedDestination } from '../../src/observe/log.js';
import { finished, REPO_ROOT, requireBuiltBin } from '../helpers/cli.js';
import { suiteDir } from '../helpers/files.js';
import { captureLogs, type LogLine } from '../helpers/logs.js';
import { mintToken } from '../helpers/tokens.js';

describe('createLogger', () => {
  it('redacts every path a token could sit at, as a second line of defence', () => {
    const token = mintToken();
    const logs = captureLogs('info');
    logs.logger.info({ token }, 'a');
    logs.logger.info({ spec: { token } }, 'b');
    logs.logger.info({ body: { spec: { token } } }, 'c');
    logs.logger.info(
      { req: { headers: { authorization: `Bearer ${token}`, 'proxy-authorization': token, cookie: token } } },
      'd',
    );
    logs.logger.info({ headers: { authorization: `Bearer ${token}` } }, 'e');
    logs.logger.info({ review: { token } }, 'f');
    expect(logs.lines.map((l) => l.msg)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(logs.text()).not.toContain(token.split('.')[1]);
    expect(logs.text()).toContain('[REDACTED]');
  });

  it('writes JSON lines with the service name and honours the level', () => {
    const logs = captureLogs('warn');
    logs.logger.info('hidden');
    logs.logger.warn({ n: 1 }, 'shown');
    expect(logs.lines).toEqual([
      expect.objectContaining({ service: 'tokenwarden', msg: 'shown', n: 1, level: 40 }),
    ]);
  });
});

describe('batchedDestination', () => {
  /** Lines of varied length, most with two-byte characters: UTF-8 bytes, not characters, count. */
  const LINES = Array.from(
    { length: 700 },
    (_, i) => `{"i":${i},"s":"${'ü'.repeat((i * 7) % 97)}${'x'.repeat((i * 13) % 131)}"}\n`,
  );

  type Destination = ReturnType<typeof pino.destination>;

  /** Writes LINES in one go (the first batch's write is in flight while the rest gather), then ends. */
  async function writeAll(dest: Destination, file: string): Promise<{ text: string; writes: number[] }> {
    const writes: number[] = [];
    dest.on('write', (n: number) => writes.push(n));
    const closed = new Promise((done) => dest.once('close', done));
    for (const line of LINES) dest.write(line);
    dest.end();
    await closed;
    return { text: readFileSync(file, 'utf8'), writes };
  }

  it.each([[4096], [undefined]])(
    'writes every line whole and in order, in writes split where sonic-boom splits them (cap %s)',
    async (maxWrite) => {
      const dir = suiteDir();
      try {
        const ours = join(dir.dir, 'ours.log');
        const theirs = join(dir.dir, 'theirs.log');
        const got = await writeAll(batchedDestination(openSync(ours, 'w'), maxWrite) as Destination, ours);
        const stock = pino.destination({
          dest: openSync(theirs, 'w'),
          sync: false,
          minLength: batchBytes(maxWrite),
          ...(maxWrite === undefined ? {} : { maxWrite }),
        });
        const want = await writeAll(stock, theirs);
        expect(got.text).toBe(LINES.join(''));
        expect(got.writes).toEqual(want.writes);
        expect(Math.max(...got.writes)).toBeLessThanOrEqual(maxWrite ?? 16_384);
        // Each write ends with a line's end: no line is ever split between two writes.
        const bytes = Buffer.from(got.text);
        let end = 0;
        for (const n of got.writes) expect(bytes[(end += n) - 1]).toBe(0x0a);
        expect(got.writes.length).toBeGreaterThan(5);
      } finally {
        dir.remove();
      }
    },
  );

  it('holds the lines waiting for a write outside the JavaScript heap, and writes them all', async () => {
    requireBuiltBin();
    const dir = suiteDir();
    try {
      const file = join(dir.dir, 'waiting.log');
      // 4 MB of lines written in one synchronous run: the first batch's write is in flight and
      // cannot finish before the run ends, so everything after it is waiting when measured.
      const script = `
        import { openSync } from 'node:fs';
        import { batchedDestination } from ${JSON.stringify(join(REPO_ROOT, 'dist/observe/log.js'))};
        const dest = batchedDestination(openSync(${JSON.stringify(file)}, 'w'));
        const lines = Array.from({ length: 4000 }, (_, i) => JSON.stringify({ i, s: 'ü'.repeat(i % 50) + 'x'.repeat(1000) }) + '\\n');
        globalThis.gc(); globalThis.gc();
        const before = process.memoryUsage();
        for (let i = 0; i < lines.length; i++) { dest.write(lines[i]); lines[i] = undefined; }
        globalThis.gc(); globalThis.gc();
        const after = process.memoryUsage();
        dest.on('close', () => console.log(JSON.stringify({ heap: after.heapUsed - before.heapUsed, outside: after.arrayBuffers - before.arrayBuffers })));
        dest.end();
      `;
      const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const result = await finished(child);
      expect(result.code, result.stderr).toBe(0);
      const grew = JSON.parse(result.stdout) as { heap: number; outside: number };
      expect(grew.outside).toBeGreaterThan(3_000_000);
      expect(grew.heap).toBeLessThan(1_000_000);
      const written = readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(written.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(
        Array.from({ length: 4000 }, (_, i) => i),
      );
    } finally {
      dir.remove();
    }
  });

  it('loses no line when the process exits without waiting for its writes', async () => {
    requireBuiltBin();
    const script = `
      import { createLogger } from ${JSON.stringify(join(REPO_ROOT, 'dist/observe/log.js'))};
      import { ReviewAccessLog } from ${JSON.stringify(join(REPO_ROOT, 'dist/observe/access-log.js'))};
      const logger = createLogger('info');
      const access = new ReviewAccessLog(logger, 'tokenreviews/v1', 'tokenreview');
      for (let i = 0; i < 10; i++) access.token('r' + i, '127.0.0.1', 'authenticated', 'ok', 'ü' + i, i);
      logger.warn('last');
      process.exit(3);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = await finished(child);
    expect(result.code, result.stderr).toBe(3);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LogLine);
    expect(lines.map((l) => l.reqId ?? l.msg)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `r${i}`),
      'last',
    ]);
  });
});
