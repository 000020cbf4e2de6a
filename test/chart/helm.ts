// Renders charts/tokenwarden with a real Helm, built from its Go module by build-helm.sh (cached outside the clone).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

export const CHART = fileURLToPath(new URL('../../charts/tokenwarden', import.meta.url));
const BUILD_HELM = fileURLToPath(new URL('./build-helm.sh', import.meta.url));
export const RELEASE = 'tw';
export const NAMESPACE = 'tokenwarden';

const run = promisify(execFile);

/** Bound for a hook whose first call may build Helm: about 10 minutes on two idle cores, far more on a busy machine. */
export const HELM_BUILD_TIMEOUT_MS = 60 * 60_000;
let helmPath: string | undefined;

/** The Helm binary; the first call builds it when it is not cached yet (minutes, once per machine and version). */
export function helm(): string {
  helmPath ??= execFileSync('bash', [BUILD_HELM], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return helmPath;
}

/** A Kubernetes object as rendered; tests narrow what they read. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; [k: string]: unknown };
  readonly [k: string]: unknown;
}

export interface Rendered {
  readonly objects: readonly K8sObject[];
  /** The manifests as Helm printed them. */
  readonly text: string;
}

function withValuesFile<T>(values: object, use: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenwarden-chart-'));
  const file = join(dir, 'values.json');
  writeFileSync(file, JSON.stringify(values));
  return use(file).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** `helm template` of the chart with `values` (and `args`), parsed. */
export async function render(
  values: object = {},
  args: readonly string[] = [],
  chart = CHART,
): Promise<Rendered> {
  return withValuesFile(values, async (file) => {
    const { stdout } = await run(
      helm(),
      ['template', RELEASE, chart, '--namespace', NAMESPACE, '--values', file, ...args],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const objects = parseAllDocuments(stdout)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
    return { objects, text: stdout };
  });
}

/**
 * `helm install --dry-run`: the manifests and the NOTES.txt an install prints, from one render. With a
 * kubeconfig the dry run is `server`: the chart's lookups read that cluster.
 */
export async function installDryRun(
  values: object = {},
  kubeconfig?: string,
): Promise<Rendered & { notes: string }> {
  return withValuesFile(values, async (file) => {
    const dryRun =
      kubeconfig === undefined ? ['--dry-run=client'] : ['--dry-run=server', '--kubeconfig', kubeconfig];
    const { stdout } = await run(
      helm(),
      ['install', RELEASE, CHART, '--namespace', NAMESPACE, '--values', file, ...dryRun],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const manifestAt = stdout.indexOf('MANIFEST:\n');
    const notesAt = stdout.indexOf('NOTES:\n');
    if (manifestAt < 0 || notesAt < manifestAt) throw new Error(`unexpected helm install output:\n${stdout}`);
    const text = stdout.slice(manifestAt + 'MANIFEST:\n'.length, notesAt);
    const objects = parseAllDocuments(text)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
    return { objects, text, notes: stdout.slice(notesAt + 'NOTES:\n'.length) };
  });
}

/** Renders values the chart must refuse; resolves with Helm's error text (and fails if Helm accepted them). */
export async function renderError(values: object, chart = CHART): Promise<string> {
  return withValuesFile(values, async (file) => {
    try {
      await run(helm(), ['template', RELEASE, chart, '--namespace', NAMESPACE, '--values', file]);
    } catch (err) {
      return String((err as { stderr?: string }).stderr ?? err);
    }
    throw new Error(`helm accepted values it should refuse: ${JSON.stringify(values)}`);
  });
}

/** `helm lint --strict` output; rejects on any finding. */
export async function lint(values: object = {}): Promise<string> {
  return withValuesFile(values, async (file) => {
    const { stdout } = await run(helm(), [
      'lint',
      '--strict',
      CHART,
      '--namespace',
      NAMESPACE,
      '--values',
      file,
    ]);
    return stdout;
  });
}

export function find(objects: readonly K8sObject[], kind: string, name?: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export function only(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = find(objects, kind, name);
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly env?: { name: string; value?: string }[];
  readonly ports?: { name: string; containerPort: number }[];
  readonly volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
  readonly securityContext?: Record<string, unknown>;
  readonly livenessProbe?: Probe;
  readonly readinessProbe?: Probe;
  readonly startupProbe?: Probe;
  readonly resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

export interface Probe {
  readonly httpGet?: { path: string; port: string | number; scheme?: string };
  readonly [k: string]: unknown;
}

export interface PodSpec {
  readonly containers: Container[];
  readonly initContainers?: (Container & { restartPolicy?: string })[];
  readonly volumes?: Volume[];
  readonly securityContext?: Record<string, unknown>;
  readonly serviceAccountName?: string;
  readonly automountServiceAccountToken?: boolean;
  readonly terminationGracePeriodSeconds?: number;
  readonly topologySpreadConstraints?: Record<string, unknown>[];
}

export interface KeyToPath {
  readonly key: string;
  readonly path: string;
}

export interface Volume {
  readonly name: string;
  readonly emptyDir?: Record<string, unknown>;
  readonly secret?: { secretName: string; items?: KeyToPath[] };
  readonly configMap?: { name: string; items?: KeyToPath[] };
  readonly projected?: {
    sources: {
      serviceAccountToken?: { path: string; audience?: string; expirationSeconds?: number };
      configMap?: { name: string; items?: KeyToPath[] };
      secret?: { name: string; items?: KeyToPath[] };
      downwardAPI?: { items: { path: string; fieldRef: { fieldPath: string } }[] };
    }[];
  };
}

/** The pod template of the one Deployment. */
export function podSpec(objects: readonly K8sObject[]): PodSpec {
  const deployment = only(objects, 'Deployment') as K8sObject & { spec: { template: { spec: PodSpec } } };
  return deployment.spec.template.spec;
}
