import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkBoundObjects, objectKey } from '../../src/authn/serviceaccount/bound-objects.js';
import { loadClusterConfig } from '../../src/live/cluster-config.js';
import { watchClusterObjects, type ClusterObjectCaches } from '../../src/live/cluster-objects.js';
import { startFakeApiserver, type FakeApiserver } from '../helpers/fake-apiserver.js';
import { tempDir } from '../helpers/files.js';

let server: FakeApiserver | undefined;
let caches: ClusterObjectCaches | undefined;
afterEach(async () => {
  caches?.close();
  caches = undefined;
  await server?.close();
  server = undefined;
});

const pod = (name: string, uid: string) => ({ metadata: { name, namespace: 'ns1', uid } });

async function start(seed: (s: FakeApiserver) => void = () => {}) {
  server = await startFakeApiserver(tempDir());
  seed(server);
  const changes: string[] = [];
  caches = watchClusterObjects(loadClusterConfig(server.kubeconfig), {
    now: () => Date.now(),
    backoff: { minMs: 5, maxMs: 20 },
    onChange: (key) => changes.push(key),
  });
  await caches.start();
  return { server, caches, changes };
}

describe('watchClusterObjects', () => {
  it('is not synced, and answers no token, before the first list', async () => {
    server = await startFakeApiserver(tempDir());
    caches = watchClusterObjects(loadClusterConfig(server.kubeconfig), {
      now: () => Date.now(),
      onChange: () => {},
    });
    expect(caches.synced()).toBe(false);
    const verdict = checkBoundObjects({ namespace: 'ns1', name: 'app', uid: 'u' }, caches, Date.now());
    expect(verdict).toMatchObject({ code: 'ERR_CLUSTER_UNAVAILABLE', transient: true });
  });

  it('lists the objects, then follows the watch: additions and deletions, each reported by its key', async () => {
    const { server, caches, changes } = await start((s) => s.put('pods', pod('web', 'uid-1')));
    expect(caches.synced()).toBe(true);
    expect(caches.pod('ns1', 'web')).toEqual({ uid: 'uid-1' });
    server.put('pods', pod('api', 'uid-2'));
    await vi.waitFor(() => expect(caches.pod('ns1', 'api')).toEqual({ uid: 'uid-2' }));
    server.remove('pods', 'ns1', 'web');
    await vi.waitFor(() => expect(caches.pod('ns1', 'web')).toBeUndefined());
    expect(changes).toEqual([objectKey('pods', 'ns1', 'api'), objectKey('pods', 'ns1', 'web')]);
  });

  it('reads deletion timestamps, secret tokens and labels, and cluster-scoped nodes', async () => {
    const { caches } = await start((s) => {
      s.put('nodes', { metadata: { name: 'node-a', uid: 'n1', deletionTimestamp: '2026-01-15T12:00:00Z' } });
      s.put('secrets', {
        metadata: { name: 'tok', namespace: 'ns1', uid: 's1', labels: { a: 'b' } },
        data: { token: Buffer.from('abc').toString('base64') },
      });
    });
    expect(caches.node('node-a')).toEqual({ uid: 'n1', deletionTimestampMs: Date.UTC(2026, 0, 15, 12) });
    expect(caches.secret('ns1', 'tok')).toEqual({ uid: 's1', labels: { a: 'b' }, token: Buffer.from('abc') });
  });

  it('relists when the watch ends with 410 Gone, picking up what changed meanwhile', async () => {
    const { server, caches } = await start((s) => s.put('pods', pod('web', 'uid-1')));
    expect(server.lists.get('pods')).toBe(1);
    server.expireWatches('pods');
    await vi.waitFor(() => expect(server.lists.get('pods')).toBe(2));
    server.put('pods', pod('late', 'uid-3'));
    await vi.waitFor(() => expect(caches.pod('ns1', 'late')).toEqual({ uid: 'uid-3' }));
  });

  it('keeps the last known objects while the apiserver fails, says since when, and recovers', async () => {
    const { server, caches } = await start((s) => s.put('pods', pod('web', 'uid-1')));
    server.fail('pods', true);
    await vi.waitFor(() => expect(caches.health().get('pods')?.brokenSinceMs).toBeDefined());
    expect(caches.pod('ns1', 'web')).toEqual({ uid: 'uid-1' });
    expect(caches.synced()).toBe(true);
    server.fail('pods', false);
    server.put('pods', pod('after', 'uid-4'));
    await vi.waitFor(() => expect(caches.pod('ns1', 'after')).toEqual({ uid: 'uid-4' }));
    await vi.waitFor(() => expect(caches.health().get('pods')?.brokenSinceMs).toBeUndefined());
    expect(caches.health().get('pods')?.restarts).toBeGreaterThan(0);
  });

  it('refuses a kubeconfig file it cannot read, naming the flag', () => {
    expect(() => loadClusterConfig('/nonexistent/kubeconfig')).toThrow(
      /^--kubeconfig: \/nonexistent\/kubeconfig/,
    );
  });
});
