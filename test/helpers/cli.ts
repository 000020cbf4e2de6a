import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** The built bin must exist: the CLI is tested as users run it, not from src. */
export function requireBuiltBin(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` before the CLI tests`);
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `node dist/cli/main.js ...args` in the repo root. */
export function spawnCli(args: readonly string[]): ChildProcess {
  requireBuiltBin();
  return spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Waits for a spawned CLI to exit, with everything it printed. */
export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs one command to completion; `stdin` is written and closed first. */
export function runCli(args: readonly string[], stdin = ''): Promise<CliResult> {
  const child = spawnCli(args);
  const done = finished(child);
  child.stdin?.end(stdin);
  return done;
}

/**
 * Resolves with the first match of `pattern` in what the child has written to `stream`
 * from now on; rejects if the child exits first. Bounded by the test's timeout.
 */
export function waitForOutput(
  child: ChildProcess,
  stream: 'stdout' | 'stderr',
  pattern: RegExp,
): Promise<RegExpExecArray> {
  const readable = child[stream];
  if (!readable) return Promise.reject(new Error(`the child has no ${stream}`));
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const m = pattern.exec(seen);
      if (m) {
        readable.off('data', onData);
        child.off('exit', onExit);
        resolve(m);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`exited (${code}) before printing ${pattern}`));
    readable.on('data', onData);
    child.once('exit', onExit);
  });
}

/** The first JSON log line (pino, on stdout) whose msg is `msg`. */
export async function logLine(child: ChildProcess, msg: string): Promise<Record<string, unknown>> {
  const quoted = JSON.stringify(msg).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const [line] = await waitForOutput(child, 'stdout', new RegExp(`^\\{.*"msg":${quoted}.*\\}$`, 'm'));
  return JSON.parse(line) as Record<string, unknown>;
}
