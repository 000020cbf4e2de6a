// Locates (building on first use) the cluster binaries through ../cluster/build.sh, the one place that knows the
// versions and the cache layout.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ClusterBinaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
}

const BUILD_SCRIPT = fileURLToPath(new URL('../cluster/build.sh', import.meta.url));
// A cold build of all three is about 10 minutes on two cores; the bound leaves room for a slow machine and for a
// concurrent run holding the build lock.
const BUILD_TIMEOUT_MS = 60 * 60_000;

/** Runs build.sh, streaming its progress to our stderr, and returns the paths it printed. */
export function ensureClusterBinaries(): Promise<ClusterBinaries> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    const timer = setTimeout(() => child.kill('SIGTERM'), BUILD_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${BUILD_SCRIPT}: ${err.message}`, { cause: err }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        const why = signal
          ? `was killed (${signal}; limit ${BUILD_TIMEOUT_MS / 60_000} min)`
          : `exited with ${code}`;
        reject(new Error(`${BUILD_SCRIPT} ${why}; its messages are above`));
        return;
      }
      const paths = new Map(
        stdout
          .split('\n')
          .filter((line) => line.includes('='))
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
      );
      const get = (component: string): string => {
        const path = paths.get(component);
        if (!path) throw new Error(`${BUILD_SCRIPT} printed no path for ${component}`);
        return path;
      };
      try {
        resolve({
          etcd: get('etcd'),
          kubeApiserver: get('kube-apiserver'),
          kubeControllerManager: get('kube-controller-manager'),
        });
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}
