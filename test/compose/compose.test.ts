// Live mode's failure behaviour, cell by cell of the table in docs/live-mode.md: the apiserver unreachable at
// start, its watches broken after the first list, and the apiserver slow, for bound tokens, legacy tokens, the
// RBAC policy and the cluster's own keys, through the whole composition `serve` builds.
import { pino } from 'pino';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { Attributes } from '../../src/authz/authorizer.js';
import { manualClock } from '../../src/clock.js';
import { compose } from '../../src/compose/compose.js';
import type { LiveOptions } from '../../src/compose/options.js';
import { loadConfig } from '../../src/config/load.js';
import { authenticationOptions } from '../../src/config/options.js';
import { startFakeApiserver, type FakeApiserver } from '../helpers/fake-apiserver.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { rsaKey } from '../helpers/keys.js';
import {
  boundClaims,
  ISSUER,
  legacyClaims,
  mintToken,
  NOW_MS,
  SA_UID,
  POD_UID,
  withPrivate,
} from '../helpers/tokens.js';
import { jwksBody } from '../keys/jwks-server.js';

const BOUND_MS = 30_000;
const RESOURCES = [
  'serviceaccounts',
  'secrets',
  'pods',
  'nodes',
  'clusterroles',
  'roles',
  'clusterrolebindings',
  'rolebindings',
];
const RBAC = RESOURCES.slice(4);

const LEGACY = mintToken({ claims: legacyClaims() });
const POD_TOKEN = mintToken();
const GONE_POD_TOKEN = mintToken({ claims: withPrivate({ pod: { name: 'gone', uid: 'gone-uid' } }) });

function seed(server: FakeApiserver): void {
  server.serveIssuer(ISSUER, jwksBody([rsaKey()]));
  server.put('serviceaccounts', { metadata: { name: 'app', namespace: 'ns1', uid: SA_UID } });
  server.put('pods', { metadata: { name: 'app-7d9', namespace: 'ns1', uid: POD_UID } });
  server.put('secrets', {
    metadata: { name: 'app-token-42nbt', namespace: 'ns1', uid: 'secret-uid' },
    data: { token: Buffer.from(LEGACY).toString('base64') },
  });
  server.put('clusterroles', {
    metadata: { name: 'reader', uid: 'r1' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
  });
  server.put('clusterrolebindings', {
    metadata: { name: 'alice-reads', uid: 'b1' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'reader' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
  });
}

/**
 * What `serve` composes from these flags beside `--kubeconfig` and a 30 s staleness bound, on a manual clock,
 * with a fast watch backoff. `keys: 'file'` gives the issuer and key file by hand; `'cluster'` gives none.
 */
async function liveService(keys: 'file' | 'cluster', before: (s: FakeApiserver) => void = () => {}) {
  const server = await startFakeApiserver(tempDir());
  seed(server);
  before(server);
  const keyFlags =
    keys === 'file'
      ? [
          '--service-account-issuer',
          ISSUER,
          '--service-account-key-file',
          writeFile(tempDir(), 'sa.pub', rsaKey().publicPem),
        ]
      : [];
  const config = loadConfig('serve', [
    '--kubeconfig',
    server.kubeconfig,
    '--live-staleness-bound',
    '30s',
    '--service-account-legacy-tokens',
    'accept',
    ...keyFlags,
  ]);
  const live: LiveOptions = { ...config.live!, backoff: { minMs: 5, maxMs: 20 } };
  const clock = manualClock(NOW_MS);
  const components = await compose({
    authentication: { ...authenticationOptions(config), live },
    authorization: { cluster: live },
    clock,
    logger: pino({ enabled: false }),
    watch: false,
  });
  onTestFinished(async () => {
    components.close();
    await server.close();
  });
  const review = async (token: string) => {
    const r = await components.authentication.authenticator.authenticateToken(token, []);
    return r.outcome === 'authenticated' ? `authenticated as ${r.user.username}` : r;
  };
  const may = async (user: string, groups: string[] = []) =>
    (await components.authorization.authorizer.authorize(getPods(user, groups))).decision;
  const check = (name: string) => components.readiness().find((c) => c.name.startsWith(name));
  /** Every check passes without a note: keys loaded, every cache listed and its watch open. */
  const following = () =>
    vi.waitFor(() => expect(components.readiness().filter((c) => !c.ok || c.note !== undefined)).toEqual([]));
  const staleness = async () => {
    const text = await components.metrics.registry.getSingleMetricAsString(
      'tokenwarden_live_watch_staleness_seconds',
    );
    return Object.fromEntries(
      [...text.matchAll(/^tokenwarden_live_watch_staleness_seconds\{resource="(\w+)"\} (\S+)$/gm)].map(
        (m) => [m[1]!, m[2] === '+Inf' ? Infinity : Number(m[2])],
      ),
    );
  };
  return { server, components, clock, review, may, check, following, staleness };
}

function getPods(user: string, groups: string[]): Attributes {
  return {
    user: { username: user, groups: [...groups, 'system:authenticated'] },
    verb: 'get',
    namespace: 'ns1',
    apiGroup: '',
    apiVersion: 'v1',
    resource: 'pods',
    subresource: '',
    name: '',
    resourceRequest: true,
    path: '',
  };
}

const SERVING = {
  pod: 'authenticated as system:serviceaccount:ns1:app',
  legacy: 'authenticated as system:serviceaccount:ns1:app',
};

describe('live mode with the apiserver unreachable at start', () => {
  it('is not ready and fails closed: bound and legacy tokens meet a transient error, RBAC grants only system:masters; then serves once it comes up', async () => {
    const s = await liveService('file', (server) => server.unreachable(true));
    expect(await s.components.whenReady(50)).toBe(false);
    for (const name of ['cluster-objects', 'cluster-rbac', 'rbac-policy'])
      expect(s.check(name)).toMatchObject({ ok: false });
    for (const token of [POD_TOKEN, LEGACY, GONE_POD_TOKEN])
      expect(await s.review(token)).toMatchObject({
        outcome: 'error',
        error: { code: 'ERR_CLUSTER_UNAVAILABLE', transient: true },
      });
    expect(await s.may('alice')).toBe('no-opinion');
    expect(await s.may('root', ['system:masters'])).toBe('allow');
    expect(Object.values(await s.staleness())).toEqual(RESOURCES.map(() => Infinity));

    s.server.unreachable(false);
    expect(await s.components.whenReady(10_000)).toBe(true);
    await vi.waitFor(() => expect(s.components.readiness().filter((c) => !c.ok)).toEqual([]));
    expect(await s.review(POD_TOKEN)).toBe(SERVING.pod);
    expect(await s.review(LEGACY)).toBe(SERVING.legacy);
    expect(await s.review(GONE_POD_TOKEN)).toMatchObject({
      outcome: 'error',
      error: { message: 'service account token has been invalidated' },
    });
    expect(await s.may('alice')).toBe('allow');
  });

  it("without a key source: not ready until the cluster's keys arrive, every token meanwhile a transient error", async () => {
    const s = await liveService('cluster', (server) => server.unreachable(true));
    expect(s.check('service-account-keys')).toMatchObject({ ok: false });
    for (const token of [POD_TOKEN, LEGACY])
      expect(await s.review(token)).toMatchObject({ outcome: 'error', error: { transient: true } });
    s.server.unreachable(false);
    await s.components.authentication.loadOnce();
    expect(await s.components.whenReady(10_000)).toBe(true);
    expect(await s.review(POD_TOKEN)).toBe(SERVING.pod);
    // Legacy tokens are signed with the same keys: the apiserver's JWKS verifies them too.
    expect(await s.review(LEGACY)).toBe(SERVING.legacy);
  });
});

describe('live mode with its watches broken after the first list', () => {
  it('serves the last known objects, policy and keys, reports their age, fails /readyz past the bound and recovers after a relist', async () => {
    const s = await liveService('cluster');
    expect(await s.components.whenReady(10_000)).toBe(true);
    await s.following();
    s.server.unreachable(true);
    await vi.waitFor(() =>
      expect(s.check('cluster-objects')?.note).toMatch(/^watch broken, serving last known state/),
    );
    await vi.waitFor(() => expect(s.check('cluster-rbac')?.note).toMatch(/^watch broken/));
    // A refresh of the keys fails too: the last good keys keep serving.
    await s.components.authentication.loadOnce();
    expect(s.check('service-account-keys')).toMatchObject({
      ok: true,
      note: expect.stringMatching(/^last reload failed/),
    });

    s.clock.advance(10_000);
    expect(await s.staleness()).toEqual(Object.fromEntries(RESOURCES.map((r) => [r, 10])));
    for (const name of ['cluster-objects', 'cluster-rbac']) expect(s.check(name)).toMatchObject({ ok: true });
    expect(await s.review(POD_TOKEN)).toBe(SERVING.pod);
    expect(await s.review(LEGACY)).toBe(SERVING.legacy);
    expect(await s.review(GONE_POD_TOKEN)).toMatchObject({
      error: { message: 'service account token has been invalidated' },
    });
    expect(await s.may('alice')).toBe('allow');
    expect(await s.may('bob')).toBe('no-opinion');

    s.clock.advance(BOUND_MS);
    for (const name of ['cluster-objects', 'cluster-rbac'])
      expect(s.check(name)).toMatchObject({ ok: false });
    // Past the bound the answers still come from the last known state.
    expect(await s.review(POD_TOKEN)).toBe(SERVING.pod);
    expect(await s.may('alice')).toBe('allow');

    // What changed during the outage arrives with the relist.
    s.server.remove('pods', 'ns1', 'app-7d9');
    s.server.unreachable(false);
    // The keys' note stays until their next scheduled refresh; the caches follow again.
    await vi.waitFor(() =>
      expect(['cluster-objects', 'cluster-rbac'].map((n) => s.check(n))).toEqual([
        { name: 'cluster-objects', ok: true },
        { name: 'cluster-rbac', ok: true },
      ]),
    );
    expect(await s.staleness()).toEqual(Object.fromEntries(RESOURCES.map((r) => [r, 0])));
    await vi.waitFor(async () =>
      expect(await s.review(POD_TOKEN)).toMatchObject({
        error: { message: 'service account token has been invalidated' },
      }),
    );
  });

  it('with only the RBAC watches broken, answers from the last known policy and only cluster-rbac fails past the bound', async () => {
    const s = await liveService('file');
    expect(await s.components.whenReady(10_000)).toBe(true);
    await s.following();
    for (const r of RBAC) s.server.fail(r, true);
    await vi.waitFor(() => expect(s.check('cluster-rbac')?.note).toMatch(/^watch broken/));
    s.server.put('clusterrolebindings', {
      metadata: { name: 'bob-reads', uid: 'b2' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'reader' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }],
    });
    s.clock.advance(BOUND_MS + 1);
    expect(s.check('cluster-rbac')).toMatchObject({ ok: false });
    expect(s.check('cluster-objects')).toEqual({ name: 'cluster-objects', ok: true });
    expect(await s.may('alice')).toBe('allow');
    expect(await s.may('bob')).toBe('no-opinion');
    expect(await s.review(POD_TOKEN)).toBe(SERVING.pod);

    for (const r of RBAC) s.server.fail(r, false);
    await s.following();
    await vi.waitFor(async () => expect(await s.may('bob')).toBe('allow'));
  });
});

describe('live mode with a slow apiserver', () => {
  it('answers every review from its caches while nothing the apiserver is asked is answered; readiness follows the sync', async () => {
    const s = await liveService('cluster');
    expect(await s.components.whenReady(10_000)).toBe(true);
    await s.following();
    const release = s.server.hold();
    // Every watch ends as at a compaction: the relists that follow wait on the held apiserver.
    for (const r of RESOURCES) s.server.expireWatches(r);
    await vi.waitFor(() => expect(s.server.heldRequests()).toBeGreaterThanOrEqual(RESOURCES.length));
    expect(await s.review(POD_TOKEN)).toBe(SERVING.pod);
    expect(await s.review(LEGACY)).toBe(SERVING.legacy);
    expect(await s.may('alice')).toBe('allow');
    // A token whose kid is known never waits for the keys either; a refresh under way does not matter.
    void s.components.authentication.loadOnce();
    expect(await s.review(mintToken({ claims: boundClaims({ jti: 'another' }) }))).toBe(SERVING.pod);

    s.clock.advance(BOUND_MS);
    for (const name of ['cluster-objects', 'cluster-rbac'])
      expect(s.check(name)).toMatchObject({ ok: false });
    release();
    await s.following();
  });
});
