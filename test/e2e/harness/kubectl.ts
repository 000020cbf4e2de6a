// kubectl against the e2e cluster, bounded in time. Output is returned, never printed: `kubectl create token`
// writes a live credential to stdout.
import { spawn } from 'node:child_process';

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code; null when the command was killed (see stderr). */
  readonly code: number | null;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin, e.g. manifests for `apply -f -`. */
  input?: string;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export function runKubectl(
  kubeconfigPath: string,
  args: readonly string[],
  opts: KubectlOptions = {},
): Promise<CommandResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    // An explicit --kubeconfig and an emptied KUBECONFIG: never the developer's own clusters.
    const child = spawn('kubectl', ['--kubeconfig', kubeconfigPath, ...args], {
      env: { ...process.env, KUBECONFIG: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      stderr += `\n(kubectl killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run kubectl: ${err.message}`, { cause: err }));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
    child.stdin.end(opts.input ?? '');
  });
}
