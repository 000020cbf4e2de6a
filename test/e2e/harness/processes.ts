// Child processes of the e2e cluster: started with their output in a log file, stopped by pid within a bound, and
// never outliving the test process (exit/signal hooks here, plus an external watchdog for a SIGKILLed parent).
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process has exited, with its exit code or the signal that ended it. */
  readonly exited: Promise<string>;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of the log file, for error messages. */
  logTail(lines?: number): string;
}

const live = new Set<ChildProcess>();
const exitHooks = new Set<() => void>();
let hooksInstalled = false;

function killAllNow(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
  for (const hook of exitHooks) hook();
}

/**
 * Runs `hook` synchronously when this process exits or is told to stop by a signal, unless removed first with the
 * returned function. Hooks run after every live child has been sent SIGKILL.
 */
export function onProcessExit(hook: () => void): () => void {
  installHooks();
  exitHooks.add(hook);
  return () => exitHooks.delete(hook);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      killAllNow();
      // Re-raise so the signal still ends the process the way it would have without this handler.
      process.removeListener(signal, handler);
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

// A SIGKILLed test process runs no hooks, so each child gets a detached shell that polls the parent once a second
// and kills the child if the parent is gone. It exits on its own once the child has exited.
function startWatchdog(childPid: number): void {
  // Checking the child first means a normal stop (child reaped, then the parent exits) never signals a reused pid.
  const script =
    'while kill -0 "$2" 2>/dev/null; do kill -0 "$1" 2>/dev/null || { kill -KILL "$2"; exit 0; }; sleep 1; done';
  spawn('sh', ['-c', script, 'tokenwarden-e2e-watchdog', String(process.pid), String(childPid)], {
    detached: true,
    stdio: 'ignore',
  }).unref();
}

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch (err) {
    return `(no log: ${(err as Error).message})`;
  }
}

export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  logFile: string,
): ManagedProcess {
  installHooks();
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${command}`);
  live.add(child);
  startWatchdog(pid);

  let running = true;
  const exited = new Promise<string>((resolve) => {
    const done = (how: string): void => {
      running = false;
      live.delete(child);
      resolve(how);
    };
    child.once('exit', (code, signal) => done(signal ?? `exit code ${code}`));
    child.once('error', (err) => done(`spawn error: ${err.message}`));
  });

  const bounded = (ms: number): Promise<boolean> =>
    Promise.race([
      exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
    ]);

  return {
    name,
    pid,
    logFile,
    exited,
    isRunning: () => running,
    logTail: (lines = 40) => tailOf(logFile, lines),
    async stop(graceMs = 10_000) {
      if (!running) return;
      child.kill('SIGTERM');
      if (await bounded(graceMs)) return;
      child.kill('SIGKILL');
      if (!(await bounded(5_000))) throw new Error(`${name} (pid ${pid}) survived SIGKILL for 5 s`);
    },
  };
}
