// Differential TokenReview: every token is reviewed by kube-apiserver's own TokenReview API and by tokenwarden
// (configured with the same issuer, keys and API audiences), with no audiences and with several spec.audiences
// choices, and the answers are compared field by field (harness/compare.ts). Tokens come from `kubectl create token`,
// from the real token controller (legacy Secrets), and from the test's own signer (cases/token-cases.ts).
// Tokens are never printed: only the review statuses are.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import {
  craftedCases,
  craftedLegacyCases,
  GO_JOSE_CRYPTO_FAILURE,
  LEGACY_REFUSED,
  LIVE_TWIN,
  serviceAccountAnswer,
  unlessAudienceMiss,
  type CraftContext,
  type Instance,
  type LiveInstance,
  type TokenCase,
} from './cases/token-cases.js';
import { startCluster, type Cluster } from './harness/cluster.js';
import {
  configDiffers,
  describeExpectation,
  formatDifferences,
  inLiveMode,
  invalidBearer,
  judge,
  Ledger,
  MATCH,
  needsLiveMode,
  normalizeTokenReview,
  summaryLine,
} from './harness/compare.js';
import {
  manifestStream,
  namespace,
  node,
  opaqueSecret,
  scheduledPod,
  serviceAccount,
  serviceAccountTokenSecret,
} from './harness/manifests.js';
import type { JsonResponse } from './harness/https.js';
import { waitFor } from './harness/net.js';
import { clusterTls, startTokenwarden, type Tokenwarden } from './harness/tokenwarden.js';
import { craftServiceAccountToken, kubeKeyId, loadPrivateKey, type ObjectRef } from './harness/tokens.js';

const NS = 'tr-a';
const NS_B = 'tr-b';
const SECOND_ISSUER = 'https://second-issuer.example';
/** spec.audiences choices asked of both for every token: none (the API audiences), and three explicit lists. */
const AUDIENCE_CHOICES: readonly (readonly string[])[] = [
  [],
  ['api'],
  ['vault', 'istio-ca'],
  ['other', 'api', 'vault'],
];

const MANIFESTS = manifestStream([
  namespace(NS),
  namespace(NS_B),
  serviceAccount('app', NS),
  serviceAccount('builder', NS),
  serviceAccount('doomed', NS),
  serviceAccount('reborn', NS),
  serviceAccount('app', NS_B),
  node('node-1'),
  node('node-doomed'),
  opaqueSecret('bound-secret', NS),
  opaqueSecret('doomed-secret', NS),
  serviceAccountTokenSecret('app-legacy', NS, 'app'),
  serviceAccountTokenSecret('builder-legacy', NS, 'builder'),
  serviceAccountTokenSecret('doomed-legacy', NS, 'app'),
  serviceAccountTokenSecret('app-legacy', NS_B, 'app'),
]);
// Applied second: the ServiceAccount admission plugin wants the pods' service account to exist.
const PODS = manifestStream([
  scheduledPod('pod-1', NS, 'app', 'node-1'),
  scheduledPod('pod-lost-node', NS, 'app', 'node-missing'),
  scheduledPod('pod-doomed', NS, 'app', 'node-1'),
  scheduledPod('pod-b', NS_B, 'app', 'node-1'),
]);

/** TOKENWARDEN_E2E_VERBOSE=1 prints every comparison with kube's answer, matches included. */
const VERBOSE = process.env.TOKENWARDEN_E2E_VERBOSE === '1';
const verdictMark = (differences: number): string => (differences === 0 ? '=' : '≠');

let cluster: Cluster;
const instances = new Map<Instance | LiveInstance, Tokenwarden>();
const ledger = new Ledger();
const distinctTokens = new Set<string>();
let apiAudiences: readonly string[];
let craftContext: CraftContext;

async function kubectlOk(args: readonly string[], input?: string): Promise<string> {
  const result = await cluster.kubectl(args, input === undefined ? {} : { input });
  // stderr only: stdout of `create token` is a credential.
  expect(result.code, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout.trim();
}

async function uidOf(kind: string, name: string, namespace?: string): Promise<ObjectRef> {
  const ns = namespace === undefined ? [] : ['-n', namespace];
  return { name, uid: await kubectlOk(['get', kind, name, ...ns, '-o', 'jsonpath={.metadata.uid}']) };
}

async function createToken(
  serviceAccount: string,
  namespace: string,
  args: readonly string[],
): Promise<string> {
  const token = await kubectlOk(['create', 'token', serviceAccount, '-n', namespace, ...args]);
  expect(token.split('.').length, 'kubectl create token printed something other than a JWS').toBe(3);
  return token;
}

/** data.token of a service-account-token Secret, once the token controller has written it (bounded wait). */
async function legacyToken(name: string, namespace: string): Promise<string> {
  return waitFor(
    `the token controller to fill Secret ${namespace}/${name}`,
    async () => {
      const res = await cluster.request('GET', `/api/v1/namespaces/${namespace}/secrets/${name}`);
      const token = (res.body as { data?: { token?: string } }).data?.token;
      return token ? Buffer.from(token, 'base64').toString('utf8') : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}

async function compareCases(cases: readonly TokenCase[]): Promise<string[]> {
  const failures: string[] = [];
  for (const c of cases) {
    const token = await c.token();
    distinctTokens.add(token);
    for (const audiences of AUDIENCE_CHOICES) {
      const spec = { token, ...(audiences.length > 0 && { audiences: [...audiences] }) };
      const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec };
      const kube = normalizeTokenReview(
        await cluster.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', body),
      );
      const asked = (c.instances ?? ['main']).flatMap((offline) => {
        const twin = LIVE_TWIN[offline];
        return [{ offline, instance: offline as Instance | LiveInstance }].concat(
          twin ? [{ offline, instance: twin }] : [],
        );
      });
      for (const { offline, instance } of asked) {
        const tw = instances.get(instance);
        if (tw === undefined) throw new Error(`no tokenwarden instance ${instance}`);
        const live = instance !== offline;
        const ours = normalizeTokenReview(await tw.tokenReview(body));
        const offlineExpectation =
          typeof c.expect === 'function' ? c.expect({ instance: offline, audiences, token }) : c.expect;
        const expectation = live ? inLiveMode(offlineExpectation) : offlineExpectation;
        const verdict = judge(expectation, kube, ours);
        const diffs = verdict.diffs;
        const name = `${c.name} [${instance}; spec.audiences ${JSON.stringify(audiences)}]`;
        if (VERBOSE) {
          const said = kube.authenticated
            ? `yes ${kube.username ?? ''} ${JSON.stringify(kube.audiences)}`
            : kube.error;
          console.log(`${verdictMark(diffs.length)} ${name}: kube ${kube.answer} ${said ?? ''}`);
        }
        const detail = `${describeExpectation(expectation)}: ${formatDifferences(diffs)}`;
        ledger.record({
          kind: 'tokens',
          mode: live ? 'live' : 'offline',
          name,
          counted: verdict.counted,
          ok: verdict.ok,
          detail,
        });
        if (!verdict.ok) failures.push(`${name}: ${verdict.problem ?? ''}\n    ${formatDifferences(diffs)}`);
      }
    }
  }
  return failures;
}

beforeAll(async () => {
  cluster = await startCluster({ binaries: inject('clusterBinaries') });
  apiAudiences = cluster.apiAudiences;
  await kubectlOk(['apply', '-f', '-'], MANIFESTS);
  await kubectlOk(['apply', '-f', '-'], PODS);

  const tls = await clusterTls(cluster);
  const rsaPub = cluster.pki.serviceAccountRsa.publicKeyFile;
  const common = ['--api-audiences', apiAudiences.join(',')];
  const kubeconfig = ['--kubeconfig', cluster.kubeconfigPath];
  const main = ['--service-account-issuer', cluster.issuer, '--service-account-key-file', rsaPub, ...common];
  const legacyAccept = [...main, '--service-account-legacy-tokens', 'accept'];
  const configs: Record<Instance | LiveInstance, string[]> = {
    main,
    'legacy-accept': legacyAccept,
    // Live mode: the same flags, and the apiserver compared with as the cluster whose objects are looked up.
    live: [...main, ...kubeconfig],
    'live-legacy-accept': [...legacyAccept, ...kubeconfig],
    'second-issuer': [
      '--service-account-issuer',
      cluster.issuer,
      '--service-account-issuer',
      SECOND_ISSUER,
      '--service-account-key-file',
      rsaPub,
      '--service-account-key-file',
      cluster.pki.serviceAccountEc.publicKeyFile,
      ...common,
    ],
  };
  const started = await Promise.allSettled(
    (Object.entries(configs) as Array<[Instance | LiveInstance, string[]]>).map(async ([name, args]) => {
      instances.set(
        name,
        await startTokenwarden({
          name,
          workDir: cluster.workDir,
          ...tls,
          args,
        }),
      );
    }),
  );
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;

  craftContext = {
    rsaKey: loadPrivateKey(cluster.pki.serviceAccountRsa.privateKeyFile),
    issuer: cluster.issuer,
    apiAudiences,
    namespace: NS,
    serviceAccount: await uidOf('serviceaccount', 'app', NS),
    pod: await uidOf('pod', 'pod-1', NS),
    node: await uidOf('node', 'node-1'),
    secret: await uidOf('secret', 'bound-secret', NS),
    legacySecretName: 'app-legacy',
  };
});

afterAll(async () => {
  ledger.flush(inject('ledgerDir'), 'tokenreview-diff');
  console.log(
    `TokenReview differences (kube-apiserver v1.37.2 vs tokenwarden):\n${ledger.report('tokens') || '  none'}\n` +
      `${distinctTokens.size} distinct tokens; ${summaryLine(ledger.counts('tokens'), ledger.counts('sars'))}\n` +
      summaryLine(ledger.counts('tokens', 'live'), ledger.counts('sars', 'live'), 'live'),
  );
  await Promise.allSettled([...instances.values()].map((tw) => tw.stop()));
  await cluster?.stop();
});

function expectNoFailures(failures: readonly string[]): void {
  expect(failures, `unexplained or stale differences:\n${failures.join('\n')}`).toEqual([]);
}

describe('TokenReview: kube-apiserver and tokenwarden, field by field', () => {
  it('tokens minted by kubectl create token', async () => {
    const issuer = cluster.issuer;
    const minted: Array<[string, string, string, string[]]> = [
      ['default audiences, 1 h', 'app', NS, []],
      ['--duration 10m', 'app', NS, ['--duration', '10m']],
      ['--duration 24h', 'app', NS, ['--duration', '24h']],
      ['--duration 3607s (kube extends it to a year, with warnafter)', 'app', NS, ['--duration', '3607s']],
      ['--duration 8760h', 'app', NS, ['--duration', '8760h']],
      ['--audience vault', 'app', NS, ['--audience', 'vault']],
      ['--audience vault --audience istio-ca', 'app', NS, ['--audience', 'vault', '--audience', 'istio-ca']],
      ['--audience api', 'app', NS, ['--audience', 'api']],
      ['--audience <issuer>', 'app', NS, ['--audience', issuer]],
      ['--audience api --audience vault', 'app', NS, ['--audience', 'api', '--audience', 'vault']],
      ['--audience istio-ca --duration 10m', 'app', NS, ['--audience', 'istio-ca', '--duration', '10m']],
      ['--audience other', 'app', NS, ['--audience', 'other']],
      [
        'bound to pod pod-1 (on node node-1)',
        'app',
        NS,
        ['--bound-object-kind', 'Pod', '--bound-object-name', 'pod-1'],
      ],
      [
        'bound to pod pod-1, --audience vault',
        'app',
        NS,
        ['--bound-object-kind', 'Pod', '--bound-object-name', 'pod-1', '--audience', 'vault'],
      ],
      [
        'bound to pod pod-lost-node (its node does not exist)',
        'app',
        NS,
        ['--bound-object-kind', 'Pod', '--bound-object-name', 'pod-lost-node'],
      ],
      [
        'bound to secret bound-secret',
        'app',
        NS,
        ['--bound-object-kind', 'Secret', '--bound-object-name', 'bound-secret'],
      ],
      [
        'bound to secret bound-secret, --audience vault --duration 10m',
        'app',
        NS,
        [
          '--bound-object-kind',
          'Secret',
          '--bound-object-name',
          'bound-secret',
          '--audience',
          'vault',
          '--duration',
          '10m',
        ],
      ],
      ['bound to node node-1', 'app', NS, ['--bound-object-kind', 'Node', '--bound-object-name', 'node-1']],
      [
        'bound to node node-1, --audience istio-ca --audience vault',
        'app',
        NS,
        [
          '--bound-object-kind',
          'Node',
          '--bound-object-name',
          'node-1',
          '--audience',
          'istio-ca',
          '--audience',
          'vault',
        ],
      ],
      ['another service account (builder)', 'builder', NS, []],
      ['another service account (builder), --audience vault', 'builder', NS, ['--audience', 'vault']],
      ['another namespace (tr-b/app)', 'app', NS_B, []],
      [
        'another namespace, bound to pod tr-b/pod-b',
        'app',
        NS_B,
        ['--bound-object-kind', 'Pod', '--bound-object-name', 'pod-b'],
      ],
      ['default/default', 'default', 'default', []],
      [
        'default/default, --duration 48h --audience api',
        'default',
        'default',
        ['--duration', '48h', '--audience', 'api'],
      ],
    ];
    const cases: TokenCase[] = [];
    for (const [name, sa, ns, args] of minted) {
      const token = await createToken(sa, ns, args);
      cases.push({ name: `kubectl create token ${ns}/${sa}: ${name}`, token: () => token, expect: MATCH });
    }
    expectNoFailures(await compareCases(cases));
  });

  it('tokens crafted with the cluster key: valid, expired, early, foreign, tampered, garbage', async () => {
    expectNoFailures(await compareCases(craftedCases(craftContext)));
  });

  it('legacy tokens the token controller wrote into Secrets, and crafted legacy tokens', async () => {
    const legacy = async (name: string, namespace: string): Promise<TokenCase> => {
      const token = await legacyToken(name, namespace);
      return {
        name: `legacy token from Secret ${namespace}/${name}`,
        token: () => token,
        instances: ['main', 'legacy-accept'],
        expect: ({ instance }) => (instance === 'main' ? LEGACY_REFUSED : MATCH),
      };
    };
    const cases = [
      await legacy('app-legacy', NS),
      await legacy('builder-legacy', NS),
      await legacy('app-legacy', NS_B),
      ...craftedLegacyCases(craftContext),
    ];
    expectNoFailures(await compareCases(cases));
  });

  it('tokens whose pod, secret, node or service account is deleted or recreated after minting: live mode follows', async () => {
    const bound = (kind: string, name: string): string[] => [
      '--bound-object-kind',
      kind,
      '--bound-object-name',
      name,
    ];
    const doomed: Array<[string, string, string[], readonly string[]]> = [
      ['bound to pod pod-doomed', 'app', bound('Pod', 'pod-doomed'), apiAudiences],
      [
        'bound to pod pod-doomed, --audience vault',
        'app',
        [...bound('Pod', 'pod-doomed'), '--audience', 'vault'],
        ['vault'],
      ],
      ['bound to secret doomed-secret', 'app', bound('Secret', 'doomed-secret'), apiAudiences],
      ['bound to node node-doomed', 'app', bound('Node', 'node-doomed'), apiAudiences],
      ['service account doomed', 'doomed', [], apiAudiences],
      ['service account doomed, --audience istio-ca', 'doomed', ['--audience', 'istio-ca'], ['istio-ca']],
      ['service account reborn (deleted, then created again with a new uid)', 'reborn', [], apiAudiences],
    ];
    const minted = await Promise.all(
      doomed.map(async ([name, sa, args, auds]) => ({ name, auds, token: await createToken(sa, NS, args) })),
    );
    const legacy = await legacyToken('doomed-legacy', NS);
    const legacyCase = (name: string, live: TokenCase['expect']): TokenCase => ({
      name,
      token: () => legacy,
      instances: ['main', 'legacy-accept'],
      expect: (ctx) =>
        ctx.instance === 'main' ? LEGACY_REFUSED : typeof live === 'function' ? live(ctx) : live,
    });

    // While the objects exist, everyone accepts: the live instances cache these answers, and the deletions below
    // must evict them.
    const before: TokenCase[] = minted.map(({ name, token }) => ({
      name: `before deletion: ${name}`,
      token: () => token,
      expect: MATCH,
    }));
    before.push(legacyCase('before deletion: legacy token of Secret doomed-legacy', MATCH));
    expectNoFailures(await compareCases(before));

    await kubectlOk(['delete', 'pod', 'pod-doomed', '-n', NS, '--grace-period=0', '--force']);
    await kubectlOk(['delete', 'secret', 'doomed-secret', 'doomed-legacy', '-n', NS]);
    await kubectlOk(['delete', 'node', 'node-doomed']);
    await kubectlOk(['delete', 'serviceaccount', 'doomed', 'reborn', '-n', NS]);
    await kubectlOk(['apply', '-f', '-'], manifestStream([serviceAccount('reborn', NS)]));
    // kube reads bound objects through informers first, and keeps successes for 10 s: wait until it refuses every
    // compared review (refusals are never cached). The live instances must refuse too, here probed with an audience
    // of their own so that their cached answers to the compared reviews are left to the watch events to evict.
    const probes = [
      ...minted.map(({ token, auds }) => ({ token, auds, live: ['live'] })),
      { token: legacy, auds: apiAudiences, live: ['live-legacy-accept'] },
    ];
    const accepts = async (
      post: (body: unknown) => Promise<JsonResponse>,
      token: string,
      audiences: string[],
    ) =>
      normalizeTokenReview(await post({ spec: { token, ...(audiences.length > 0 && { audiences }) } }))
        .authenticated;
    const kubeReview = (body: unknown) =>
      cluster.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', body);
    let attempt = 0;
    await waitFor(
      'kube-apiserver and the live-mode tokenwardens to see the deletions',
      async () => {
        attempt++;
        const answers = await Promise.all(
          probes.flatMap(({ token, auds, live }) => [
            ...AUDIENCE_CHOICES.map((choice) => accepts(kubeReview, token, [...choice])),
            ...live.map((name) =>
              accepts((b) => instances.get(name as LiveInstance)!.tokenReview(b), token, [
                ...auds,
                `probe-${attempt}`,
              ]),
            ),
          ]),
        );
        return answers.some(Boolean) ? undefined : true;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );

    const cases: TokenCase[] = minted.map(({ name, auds, token }) => ({
      name: `deleted after minting: ${name}`,
      token: () => token,
      expect: unlessAudienceMiss(apiAudiences, auds, (ctx) =>
        needsLiveMode(
          'kube finds the bound object gone; offline tokenwarden cannot see it',
          serviceAccountAnswer(apiAudiences, ctx),
        ),
      ),
    }));
    cases.push(
      legacyCase(
        'deleted after minting: legacy token of Secret doomed-legacy',
        unlessAudienceMiss(apiAudiences, apiAudiences, (ctx) =>
          needsLiveMode(
            'kube finds the Secret gone; offline tokenwarden cannot see it',
            serviceAccountAnswer(apiAudiences, ctx),
          ),
        ),
      ),
    );
    expectNoFailures(await compareCases(cases));
  });

  it('a second issuer on an EC key, which tokenwarden knows and the apiserver does not', async () => {
    const ecKey = loadPrivateKey(cluster.pki.serviceAccountEc.privateKeyFile);
    const rsaKey = craftContext.rsaKey;
    const why = `tokenwarden is given ${SECOND_ISSUER} and the EC key; kube-apiserver is not`;
    const sa = craftContext.serviceAccount;
    const second = (over: Partial<Parameters<typeof craftServiceAccountToken>[0]> = {}): string =>
      craftServiceAccountToken({
        privateKey: ecKey,
        issuer: SECOND_ISSUER,
        namespace: 'remote',
        serviceAccount: { name: 'robot', uid: '11111111-2222-3333-4444-555555555555' },
        audiences: apiAudiences,
        ...over,
      });
    // kube has neither the issuer nor the key: `invalid bearer token` every time. tokenwarden verifies the token and
    // answers as kube would if it had them: the audience check, then `refusal`, else the user the claims name.
    const differs = (name: string, token: () => string, refusal?: string): TokenCase => ({
      name,
      token,
      instances: ['second-issuer'],
      expect: (ctx) => configDiffers(why, serviceAccountAnswer(apiAudiences, ctx, refusal)),
    });
    const minted = await createToken('app', NS, []);
    const cases: TokenCase[] = [
      differs('second issuer, ES256 on the EC key', () => second()),
      differs('second issuer, ES256, aud ["vault"]', () => second({ audiences: ['vault'] })),
      differs('second issuer, ES256, no kid', () => second({ header: { kid: undefined } })),
      differs(
        'second issuer, ES256, expired an hour ago',
        () => second({ issuedAt: Math.floor(Date.now() / 1000) - 7200, lifetimeSeconds: 3600 }),
        'service account token has expired',
      ),
      {
        name: 'second issuer, ES256, signature bit flipped',
        token: () => {
          const [h, p, s = ''] = second().split('.');
          return `${h}.${p}.${(s[0] === 'A' ? 'B' : 'A') + s.slice(1)}`;
        },
        instances: ['second-issuer'],
        // The signature fails before any claim or audience is read.
        expect: configDiffers(why, invalidBearer(GO_JOSE_CRYPTO_FAILURE)),
      },
      differs('second issuer, signed by the cluster RSA key (every key verifies every issuer)', () =>
        second({ privateKey: rsaKey }),
      ),
      differs("the cluster's issuer, signed by the EC key (every key verifies every issuer)", () =>
        craftServiceAccountToken({
          privateKey: ecKey,
          issuer: cluster.issuer,
          namespace: NS,
          serviceAccount: sa,
          audiences: apiAudiences,
        }),
      ),
      {
        name: "the cluster's own token, reviewed by the two-issuer tokenwarden",
        token: () => minted,
        instances: ['second-issuer'],
        expect: MATCH,
      },
      {
        name: "the cluster's issuer under the EC key's kid, signed by the RSA key",
        token: () =>
          craftServiceAccountToken({
            privateKey: rsaKey,
            issuer: cluster.issuer,
            namespace: NS,
            serviceAccount: sa,
            audiences: apiAudiences,
            header: { kid: kubeKeyId(ecKey) },
          }),
        instances: ['second-issuer'],
        expect: configDiffers(
          `${why}: kube finds no key for this kid, tokenwarden finds the EC key and fails its signature`,
          invalidBearer(GO_JOSE_CRYPTO_FAILURE),
        ),
      },
    ];
    expectNoFailures(await compareCases(cases));
  });

  it('compared at least 100 distinct tokens', () => {
    expect(distinctTokens.size).toBeGreaterThanOrEqual(100);
  });
});
