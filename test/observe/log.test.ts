import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { batchBytes, batchedDestination } from '../../src/observe/log.js';
import { finished, REPO_ROOT, requireBuiltBin, waitForOutput } from '../helpers/cli.js';
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
    'writes every line whole and in order to a file, in writes split where sonic-boom splits them (cap %s)',
    async (maxWrite) => {
      const dir = suiteDir();
      try {
        const ours = join(dir.dir, 'ours.log');
        const theirs = join(dir.dir, 'theirs.log');
        const got = await writeAll(batchedDestination(openSync(ours, 'w'), maxWrite) as Destination, ours);
        // A file's batches are written as soon as they are full, as sonic-boom's synchronous mode writes them.
        const stock = pino.destination({
          dest: openSync(theirs, 'w'),
          sync: true,
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

  it('writes a full batch to a file in the same turn, not through the thread pool', () => {
    const dir = suiteDir();
    try {
      const file = join(dir.dir, 'turn.log');
      const dest = batchedDestination(openSync(file, 'w')) as Destination;
      let written = 0;
      for (const line of LINES) {
        if (written >= batchBytes()) break;
        dest.write(line);
        written += Buffer.byteLength(line);
      }
      // No await since the first write: what is in the file was written by the call itself.
      const text = readFileSync(file, 'utf8');
      expect(text.length).toBeGreaterThan(0);
      expect(LINES.join('').startsWith(text)).toBe(true);
      expect(text.endsWith('\n')).toBe(true);
      dest.destroy();
    } finally {
      dir.remove();
    }
  });

  it("never throws a write error at the line's caller: it comes as the stream's error, after the write", async () => {
    // /dev/full: a character device, so written to at once, that refuses every write with ENOSPC.
    const dest = batchedDestination(openSync('/dev/full', 'w')) as Destination;
    let writing = true;
    const failed = new Promise<{ code: unknown; writing: boolean }>((done) =>
      dest.once('error', (err: NodeJS.ErrnoException) => done({ code: err.code, writing })),
    );
    expect(() => {
      for (const line of LINES) dest.write(line);
    }).not.toThrow();
    writing = false;
    expect(await failed).toEqual({ code: 'ENOSPC', writing: false });
    const closed = new Promise((done) => dest.once('close', done));
    dest.destroy();
    await closed;
  });

  it(
    'never stops the event loop on a pipe nobody reads, holds the waiting lines outside the ' +
      'JavaScript heap, and writes them all in order once the pipe is read',
    async () => {
      requireBuiltBin();
      const dir = suiteDir();
      try {
        // stdout a pipe, as a container's is: a FIFO held open for reading, not read until the child reports.
        const fifo = join(dir.dir, 'stdout.fifo');
        execFileSync('mkfifo', [fifo]);
        const reading = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
        const writing = openSync(fifo, 'w');
        // 4 MB of lines in one synchronous run into a 64 KiB pipe: the first batches go at once,
        // the rest wait for the reader. The run ending at all shows no write stopped the loop.
        const script = `
          import { createLogger } from ${JSON.stringify(join(REPO_ROOT, 'dist/observe/log.js'))};
          const logger = createLogger('info');
          const lines = Array.from({ length: 4000 }, (_, i) => 'ü'.repeat(i % 50) + 'x'.repeat(1000));
          globalThis.gc(); globalThis.gc();
          const before = process.memoryUsage();
          for (let i = 0; i < lines.length; i++) { logger.info({ i }, lines[i]); lines[i] = undefined; }
          globalThis.gc(); globalThis.gc();
          const after = process.memoryUsage();
          const started = performance.now();
          setTimeout(() => {
            console.error(JSON.stringify({ heap: after.heapUsed - before.heapUsed, outside: after.arrayBuffers - before.arrayBuffers, timerLateMs: performance.now() - started - 20 }));
          }, 20);
        `;
        const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
          stdio: ['ignore', writing, 'pipe'],
        });
        closeSync(writing);
        const exited = finished(child);
        const [report] = await waitForOutput(child, 'stderr', /\{.*\}/);
        const grew = JSON.parse(report) as { heap: number; outside: number; timerLateMs: number };
        expect(grew.outside).toBeGreaterThan(3_000_000);
        expect(grew.heap).toBeLessThan(1_000_000);
        // A timer set after the run fired in its turn: nothing written since held the loop.
        expect(grew.timerLateMs).toBeLessThan(1_000);
        const pipe = new Socket({ fd: reading, readable: true, writable: false });
        const chunks: Buffer[] = [];
        pipe.on('data', (c: Buffer) => chunks.push(c));
        await new Promise((done) => pipe.once('end', done));
        const result = await exited;
        expect(result.code, result.stderr).toBe(0);
        const written = Buffer.concat(chunks).toString('utf8').trimEnd().split('\n');
        expect(written.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(
          Array.from({ length: 4000 }, (_, i) => i),
        );
      } finally {
        dir.remove();
      }
    },
  );

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
