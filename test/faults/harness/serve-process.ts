import type { ChildProcess } from 'node:child_process';
import { beforeAll, onTestFinished } from 'vitest';
import { finished, logLine, requireBuiltBin, spawnCli, type CliResult } from '../../helpers/cli.js';
import { tempDir, writeFile } from '../../helpers/files.js';
import { httpsRequest, type HttpsResponse } from '../../helpers/http.js';
import { servingTls, tlsFlags, type ServingTls } from '../../helpers/tls.js';
import { ISSUER } from '../../helpers/tokens.js';

/** `node dist/cli/main.js serve …` on 127.0.0.1, port 0, as a child process the test owns. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly ca: string;
  /** Every stdout line (pino JSON) so far. */
  readonly lines: string[];
  readonly exited: Promise<CliResult>;
  get(path: string): Promise<HttpsResponse>;
  /** `/metrics` parsed: `name{labels}` → value. */
  metrics(): Promise<Map<string, number>>;
  /** Log lines (parsed) whose msg is `msg`. */
  logged(msg: string): Record<string, unknown>[];
  /** Resolves with the first log line with this msg from now on (bounded by the test's timeout). */
  next(msg: string): Promise<Record<string, unknown>>;
  /** SIGKILL if still running; safe to call twice. */
  kill(): void;
}

export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

/** Sum of every series of `name` whose labels contain each of `labels` (`key="value"`). */
export function metric(m: Map<string, number>, name: string, ...labels: string[]): number {
  let sum = 0;
  for (const [series, value] of m) {
    const base = series.split('{')[0];
    if (base !== name) continue;
    if (labels.every((l) => series.includes(l))) sum += value;
  }
  return sum;
}

export async function startServe(args: readonly string[], ca: string): Promise<ServeProcess> {
  const child = spawnCli(['serve', '--secure-port', '0', '--bind-address', '127.0.0.1', ...args]);
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  // Registered before the wait for the start line: a service that never prints it is killed with its test.
  onTestFinished(kill);
  const lines: string[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  const exited = finished(child);
  let serving: Record<string, unknown>;
  try {
    serving = await logLine(child, 'tokenwarden is serving');
  } catch (err) {
    const result = await exited;
    throw new Error(`serve did not start: ${String(err)}\n${result.stderr}\n${result.stdout}`);
  }
  const port = serving.port as number;
  const get = (path: string) => httpsRequest({ port, ca, path });
  const parsed = (): Record<string, unknown>[] =>
    lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return {
    child,
    port,
    ca,
    lines,
    exited,
    get,
    metrics: async () => parseMetrics((await get('/metrics')).body),
    logged: (msg) => parsed().filter((l) => l.msg === msg),
    next: (msg) => logLine(child, msg),
    kill,
  };
}

/** Polls `probe` until it returns true, at most `maxMs`; resolves with whether it did. */
export async function eventually(
  probe: () => Promise<boolean> | boolean,
  maxMs: number,
  stepMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface ServePool {
  /** The serving pair every service of the file presents (after beforeAll). */
  readonly tls: ServingTls;
  /** `serve` with these flags after the port, bind address and serving pair. */
  start(flags: readonly string[]): Promise<ServeProcess & { dir: string }>;
  /** `serve` for ISSUER with these PEM public keys in one --service-account-key-file. */
  withKeys(publicPem: string, flags?: readonly string[]): Promise<ServeProcess & { dir: string }>;
}

/** For one test file: the built CLI checked and a serving pair made; each service is killed when its test ends. */
export function servePool(name: string): ServePool {
  let tls: ServingTls | undefined;
  beforeAll(async () => {
    requireBuiltBin();
    tls = await servingTls(name);
  });
  const pool: ServePool = {
    get tls() {
      if (!tls) throw new Error('servePool: the serving pair is made in beforeAll');
      return tls;
    },
    async start(flags) {
      const dir = tempDir();
      const s = await startServe([...flags, ...tlsFlags(dir, pool.tls)], pool.tls.ca);
      return Object.assign(s, { dir });
    },
    async withKeys(publicPem, flags = []) {
      const dir = tempDir();
      const keyFile = writeFile(dir, 'sa.pub', publicPem);
      const s = await pool.start([
        '--service-account-issuer',
        ISSUER,
        '--service-account-key-file',
        keyFile,
        ...flags,
      ]);
      return Object.assign(s, { dir });
    },
  };
  return pool;
}
