import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createFilePolicySource, type FilePolicySource } from '../../../src/authz/rbac/file-source.js';
import type { ReloadEvent } from '../../../src/authz/rbac/policy-source.js';
import { TokenwardenError } from '../../../src/errors.js';
import { attrs } from '../helpers.js';

const grant = (verb: string): string => `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: r}
rules: [{apiGroups: [""], resources: [pods], verbs: [${verb}]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: b}
subjects: [{kind: User, name: u}]
roleRef: {kind: ClusterRole, name: r}
`;

function captureLogs(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

/** Polls until `check` holds; bounded, so a missed change fails instead of hanging. */
async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const canGet = async (source: FilePolicySource): Promise<boolean> =>
  (await source.authorizer.authorize(attrs({ user: 'u', verb: 'get', resource: 'pods' }))).decision ===
  'allow';
const canList = async (source: FilePolicySource): Promise<boolean> =>
  (await source.authorizer.authorize(attrs({ user: 'u', verb: 'list', resource: 'pods' }))).decision ===
  'allow';

let open: FilePolicySource | undefined;
afterEach(() => {
  open?.close();
  open = undefined;
});

function tempPolicy(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tw-source-'));
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, text);
  return file;
}

/** Replaces a file the way editors and kubelet do: write aside, then rename over it. */
function replace(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

describe('policy source', () => {
  it('refuses to start on an invalid policy, naming file, document and field', async () => {
    const file = tempPolicy(grant('get').replace('kind: ClusterRole, name: r', 'kind: Role, name: r'));
    const { logger } = captureLogs();
    const err = await createFilePolicySource([file], { logger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenwardenError);
    expect((err as TokenwardenError).code).toBe('ERR_POLICY_INVALID');
    expect((err as Error).message).toContain(`${file}: document 2 (ClusterRoleBinding "b"): roleRef.kind`);
  });

  it('refuses to start when a file is missing', async () => {
    const { logger } = captureLogs();
    await expect(createFilePolicySource(['/nonexistent/p.yaml'], { logger })).rejects.toThrow(
      '/nonexistent/p.yaml: cannot read policy file',
    );
  });

  it('keeps the last good policy through an invalid edit and takes the next valid one', async () => {
    const file = tempPolicy(grant('get'));
    const { logger, lines } = captureLogs();
    const source = (open = await createFilePolicySource([file], {
      logger,
      watch: { debounceMs: 10, resyncMs: 200 },
    }));
    const events: ReloadEvent[] = [];
    source.onReload((e) => events.push(e));
    expect(await canGet(source)).toBe(true);
    const before = source.health();
    expect(before).toMatchObject({
      ready: true,
      lastError: undefined,
      ruleCount: 1,
      bindingCount: 1,
      failures: 0,
    });

    replace(file, 'kind: [ this is not yaml');
    await eventually(() => source.health().failures === 1);
    expect(await canGet(source)).toBe(true);
    expect(await canList(source)).toBe(false);
    const broken = source.health();
    expect(broken.ready).toBe(true);
    expect(broken.lastError).toContain(`${file}: document 1: invalid YAML`);
    expect(broken.lastSuccess).toEqual(before.lastSuccess);
    expect(events).toEqual([{ outcome: 'failure', error: broken.lastError }]);
    expect(lines.some((l) => l.msg === 'RBAC policy reload failed; keeping the last good policy')).toBe(true);

    replace(file, grant('list'));
    await eventually(() => canList(source));
    expect(await canGet(source)).toBe(false);
    expect(source.health()).toMatchObject({ lastError: undefined, failures: 1, reloads: 1, ruleCount: 1 });
    expect(events.at(-1)).toMatchObject({ outcome: 'success', ruleCount: 1, bindingCount: 1 });
  });

  it('keeps serving when the file disappears, and recovers when it returns unchanged', async () => {
    const file = tempPolicy(grant('get'));
    const { logger } = captureLogs();
    const source = (open = await createFilePolicySource([file], {
      logger,
      watch: { debounceMs: 10, resyncMs: 100 },
    }));
    rmSync(file);
    await eventually(() => source.health().lastError !== undefined);
    expect(source.health().lastError).toContain('cannot read policy file (ENOENT)');
    expect(await canGet(source)).toBe(true);
    writeFileSync(file, grant('get'));
    await eventually(() => source.health().lastError === undefined);
    expect(await canGet(source)).toBe(true);
  });

  it('does nothing when the files did not change', async () => {
    const file = tempPolicy(grant('get'));
    const { logger } = captureLogs();
    const source = (open = await createFilePolicySource([file], { logger, watch: { resyncMs: 60_000 } }));
    const events: ReloadEvent[] = [];
    source.onReload((e) => events.push(e));
    await source.reload();
    await source.reload();
    expect(events).toEqual([]);
    expect(source.health().reloads).toBe(0);
  });

  it('serializes concurrent reloads so the newest content wins', async () => {
    const file = tempPolicy(grant('get'));
    const { logger } = captureLogs();
    const source = (open = await createFilePolicySource([file], {
      logger,
      watch: { resyncMs: 60_000, debounceMs: 60_000 },
    }));
    writeFileSync(file, grant('watch'));
    const first = source.reload();
    writeFileSync(file, grant('list'));
    const second = source.reload();
    await Promise.all([first, second]);
    await source.reload();
    expect(await canList(source)).toBe(true);
  });
});
