// Runs once before the e2e files: checks the tools the suite shells out to, then builds or finds the cached cluster
// binaries and hands their paths to the tests (`inject('clusterBinaries')`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

import { ensureClusterBinaries, type ClusterBinaries } from './binaries.js';
import { summarizeLedgerDir } from './compare.js';

declare module 'vitest' {
  export interface ProvidedContext {
    clusterBinaries: ClusterBinaries;
    /** Where each differential file leaves its counts (compare.ts Ledger.flush) for the one-line summary. */
    ledgerDir: string;
  }
}

const REQUIRED_TOOLS: Record<string, string> = {
  go: 'Go builds kube-apiserver, kube-controller-manager and etcd from test/e2e/cluster/*/go.mod (https://go.dev/dl/).',
  kubectl: 'the tests drive the cluster with kubectl (https://kubernetes.io/docs/tasks/tools/).',
  openssl: 'the harness issues the cluster certificates with the openssl CLI.',
  flock: 'test/e2e/cluster/build.sh serialises builds with flock (util-linux).',
};

function missingTools(): string[] {
  return Object.entries(REQUIRED_TOOLS)
    .filter(([tool]) => {
      try {
        execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore', timeout: 10_000 });
        return false;
      } catch {
        return true;
      }
    })
    .map(([tool, why]) => `  - ${tool}: ${why}`);
}

export default async function setup(project: TestProject): Promise<() => void> {
  const missing = missingTools();
  if (missing.length > 0) {
    throw new Error(`The e2e suite needs tools that are not on PATH:\n${missing.join('\n')}`);
  }
  project.provide('clusterBinaries', await ensureClusterBinaries());
  const ledgerDir = mkdtempSync(join(tmpdir(), 'tokenwarden-e2e-ledger-'));
  project.provide('ledgerDir', ledgerDir);
  return () => {
    const summary = summarizeLedgerDir(ledgerDir);
    if (summary !== undefined) console.log(`\n${summary}\n`);
    rmSync(ledgerDir, { recursive: true, force: true });
  };
}
