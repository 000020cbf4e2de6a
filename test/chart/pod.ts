// Starts the built tokenwarden exactly as the kubelet would start the rendered Deployment's container: its
// arguments and environment, with every volume's files laid out where the volume mounts, under a temp root.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { BIN, requireBuiltBin } from '../helpers/cli.js';
import { NAMESPACE, podSpec, type Container, type K8sObject, type KeyToPath, type Volume } from './helm.js';

/** What the cluster would hold beside the chart's own objects: Secrets, ConfigMaps and the pod's token. */
export interface ClusterState {
  readonly secrets?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly configMaps?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly serviceAccountToken?: string;
}

type Files = Map<string, string>;

function dataOf(
  objects: readonly K8sObject[],
  cluster: ClusterState,
  kind: 'Secret' | 'ConfigMap',
  name: string,
): Readonly<Record<string, string>> {
  const own = objects.find((o) => o.kind === kind && o.metadata.name === name) as
    (K8sObject & { data?: Record<string, string> }) | undefined;
  if (own) {
    const data = own.data ?? {};
    return kind === 'Secret'
      ? Object.fromEntries(
          Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
        )
      : data;
  }
  const external = (kind === 'Secret' ? cluster.secrets : cluster.configMaps)?.[name];
  if (!external)
    throw new Error(`the pod mounts ${kind} ${name}, which neither the chart nor the test provides`);
  return external;
}

/** The files of a Secret or ConfigMap volume: every key, or only `items` at their paths, as the kubelet does. */
function keyFiles(
  data: Readonly<Record<string, string>>,
  items: readonly KeyToPath[] | undefined,
  what: string,
): Files {
  if (!items) return new Map(Object.entries(data));
  return new Map(
    items.map((i) => {
      const value = data[i.key];
      if (value === undefined) throw new Error(`${what} has no key ${i.key}`);
      return [i.path, value] as const;
    }),
  );
}

function volumeFiles(volume: Volume, objects: readonly K8sObject[], cluster: ClusterState): Files {
  if (volume.emptyDir) return new Map();
  if (volume.secret) {
    const name = volume.secret.secretName;
    return keyFiles(dataOf(objects, cluster, 'Secret', name), volume.secret.items, `Secret ${name}`);
  }
  if (volume.configMap) {
    const name = volume.configMap.name;
    return keyFiles(dataOf(objects, cluster, 'ConfigMap', name), volume.configMap.items, `ConfigMap ${name}`);
  }
  if (volume.projected) {
    const files: Files = new Map();
    for (const source of volume.projected.sources) {
      if (source.serviceAccountToken) {
        if (cluster.serviceAccountToken === undefined) throw new Error('the pod projects a token; give one');
        files.set(source.serviceAccountToken.path, cluster.serviceAccountToken);
      } else if (source.configMap) {
        const { name, items } = source.configMap;
        for (const [p, v] of keyFiles(
          dataOf(objects, cluster, 'ConfigMap', name),
          items,
          `ConfigMap ${name}`,
        ))
          files.set(p, v);
      } else if (source.secret) {
        const { name, items } = source.secret;
        for (const [p, v] of keyFiles(dataOf(objects, cluster, 'Secret', name), items, `Secret ${name}`))
          files.set(p, v);
      } else if (source.downwardAPI) {
        for (const item of source.downwardAPI.items) {
          if (item.fieldRef.fieldPath !== 'metadata.namespace')
            throw new Error(`downward API field ${item.fieldRef.fieldPath} is not laid out by this test`);
          files.set(item.path, NAMESPACE);
        }
      } else {
        throw new Error(`projected source ${Object.keys(source).join()} is not laid out by this test`);
      }
    }
    return files;
  }
  throw new Error(`volume ${volume.name} has a source this test does not lay out`);
}

let generation = 0;

/**
 * Writes a volume's files as the kubelet's atomic writer does for Secret, ConfigMap and projected volumes: the
 * files live in a timestamped directory, `..data` links to it, and each visible name links through `..data`. An
 * update writes a new directory and renames a new `..data` link over the old one, so a reader sees the old set or
 * the new one, never a mix; a process watching the files must notice that swap.
 */
function writeAtomically(dir: string, files: Files): void {
  const current = join(dir, '..data');
  const previous = existsSync(current) ? join(dir, basename(readlinkSync(current))) : undefined;
  const next = join(dir, `..${new Date().toISOString().replace(/[:.]/g, '_')}.${generation++}`);
  for (const [path, text] of files) {
    mkdirSync(dirname(join(next, path)), { recursive: true });
    writeFileSync(join(next, path), text);
  }
  symlinkSync(basename(next), join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), current);
  for (const path of files.keys()) {
    const top = path.split('/')[0]!;
    if (!existsSync(join(dir, top))) symlinkSync(join('..data', top), join(dir, top));
  }
  if (previous) rmSync(previous, { recursive: true, force: true });
}

export interface StartedPod {
  readonly child: ChildProcess;
  readonly container: Container;
  /** The container port named https, or else the --secure-port it was given. */
  readonly port: number;
  /** The arguments as given to the process (mount paths moved under the temp root). */
  readonly args: readonly string[];
  /** stdout and stderr so far. */
  output(): string;
  /** Replaces a Secret's data in every volume that mounts it, as the kubelet does after the Secret changes. */
  updateSecret(name: string, data: Readonly<Record<string, string>>): void;
  stop(): Promise<void>;
}

/**
 * Lays out the Deployment's mounted files under a temp root and starts `node dist/cli/main.js` (the image's
 * entrypoint) with the container's arguments and environment; only paths under a mount are rewritten.
 */
export function startRenderedPod(
  objects: readonly K8sObject[],
  cluster: ClusterState,
  containerName = 'tokenwarden',
): StartedPod {
  requireBuiltBin();
  const pod = podSpec(objects);
  const container = [...pod.containers, ...(pod.initContainers ?? [])].find((c) => c.name === containerName);
  if (!container) throw new Error(`the pod has no container ${containerName}`);
  if (container.command) throw new Error('the container overrides the image entrypoint');
  const root = mkdtempSync(join(tmpdir(), 'tokenwarden-pod-'));
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  const mounts = [...(container.volumeMounts ?? [])].sort((a, b) => b.mountPath.length - a.mountPath.length);
  for (const mount of mounts) {
    const volume = volumes.get(mount.name);
    if (!volume) throw new Error(`mount ${mount.name} names no volume`);
    const dir = join(root, mount.mountPath);
    mkdirSync(dir, { recursive: true });
    if (volume.emptyDir) continue;
    writeAtomically(dir, volumeFiles(volume, objects, cluster));
  }
  // One pass, longest mount first, and only where a path starts (the whole value, or after ISSUER=): the temp
  // root itself lives under /tmp, which is also a mount.
  const escaped = mounts.map((m) => m.mountPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const mountPattern = new RegExp(`(^|=)(${escaped.join('|')})(?=/)`, 'g');
  const rewrite = (s: string): string =>
    s.replace(mountPattern, (_m, lead: string, path: string) => `${lead}${root}${path}`);
  const args = (container.args ?? []).map(rewrite);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production' };
  for (const e of container.env ?? []) {
    if (e.value === undefined) throw new Error(`env ${e.name} has no literal value`);
    env[e.name] = rewrite(e.value);
  }
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
  const port =
    container.ports?.find((p) => p.name === 'https')?.containerPort ??
    Number(/^--secure-port=([0-9]+)$/.exec(args.find((a) => a.startsWith('--secure-port=')) ?? '')?.[1]);
  return {
    child,
    container,
    port,
    args,
    output: () => output,
    updateSecret(name, data) {
      let updated = 0;
      for (const mount of mounts) {
        const volume = volumes.get(mount.name)!;
        if (volume.secret?.secretName !== name) continue;
        writeAtomically(join(root, mount.mountPath), keyFiles(data, volume.secret.items, `Secret ${name}`));
        updated++;
      }
      if (updated === 0) throw new Error(`no volume of the container mounts Secret ${name}`);
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
