// charts/tokenwarden-sidecar used as its documentation says: an application chart depending on it, adding
// `tokenwarden proxy` and its volumes to the application's pod. Rendered, checked, and the rendered container
// started in front of a real upstream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionsFor } from '../../src/config/schema.js';
import { createCertificateAuthority, issueCertificate, type IssuedCert } from '../../src/dev/certs.js';
import { freePorts } from '../e2e/harness/net.js';
import { boundClaims, mintToken } from '../helpers/tokens.js';
import type { JwksServer } from '../keys/jwks-server.js';
import { startClusterKeys } from './cluster-keys.js';
import { call } from './call.js';
import { helm, podSpec, render, renderError, type K8sObject, HELM_BUILD_TIMEOUT_MS } from './helm.js';
import { recordingUpstream, type RecordingUpstream } from '../helpers/proxy.js';
import { startRenderedPod, type StartedPod } from './pod.js';
import { appChart } from './app-chart.js';

const PROXY_FLAGS = new Set(optionsFor('proxy').map((o) => o.name));
const SERVICE_NAME = 'app.default.svc';

describe('the tokenwarden proxy sidecar in an application chart', () => {
  let chart: { dir: string; remove(): void };
  let objects: readonly K8sObject[];
  let port: number;
  let endpointsPort: number;
  let clusterCa: IssuedCert;
  let appCa: IssuedCert;
  let jwks: JwksServer;
  let upstream: RecordingUpstream;
  let pod: StartedPod | undefined;

  const tokenFor = (aud: string[]): string =>
    mintToken({ claims: boundClaims({ aud }, Math.floor(Date.now() / 1000)) });
  const get = (path: string, bearer?: string, on = port): ReturnType<typeof call> =>
    call({
      port: on,
      ca: appCa.cert,
      servername: SERVICE_NAME,
      path,
      ...(bearer ? { caller: { bearer } } : {}),
    });

  beforeAll(async () => {
    helm();
    chart = appChart();
    [port, endpointsPort] = (await freePorts(2)) as [number, number];
    ({ ca: clusterCa, jwks } = await startClusterKeys());
    upstream = await recordingUpstream();
    objects = (
      await render(
        {
          tokenwarden: {
            image: 'registry.example/tokenwarden:0.1.0',
            tlsSecret: 'app-tokenwarden-tls',
            upstream: upstream.url,
            port,
            endpointsPort,
            audiences: ['app'],
            ignorePaths: ['/healthz'],
            allowNamespaces: ['ns1'],
            jwksUri: jwks.url,
          },
        },
        [],
        chart.dir,
      )
    ).objects;
  }, HELM_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await pod?.stop();
    await upstream?.close();
    await jwks?.close();
    chart?.remove();
  }, 60_000);

  it('adds a native sidecar running `tokenwarden proxy` with flags proxy has, restricted like the chart', () => {
    const spec = podSpec(objects);
    const sidecar = spec.initContainers!.find((c) => c.name === 'tokenwarden')!;
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.command).toBeUndefined();
    expect(sidecar.args![0]).toBe('proxy');
    for (const a of sidecar.args!.slice(1)) expect(PROXY_FLAGS).toContain(/^--([a-z0-9-]+)/.exec(a)![1]);
    expect(sidecar.args).toEqual(
      expect.arrayContaining([`--upstream=${upstream.url}`, '--audience=app', '--ignore-path=/healthz']),
    );
    expect(sidecar.ports).toEqual([
      { name: 'https', containerPort: port, protocol: 'TCP' },
      { name: 'proxy-endpoints', containerPort: endpointsPort, protocol: 'TCP' },
    ]);
    for (const probe of [sidecar.startupProbe, sidecar.livenessProbe, sidecar.readinessProbe])
      expect(probe!.httpGet).toMatchObject({ port: 'proxy-endpoints', scheme: 'HTTPS' });
    expect(sidecar.startupProbe!.httpGet!.path).toBe('/readyz');
    expect(sidecar.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    const volumes = new Set(spec.volumes!.map((v) => v.name));
    for (const m of sidecar.volumeMounts!) expect(volumes).toContain(m.name);
    expect(spec.volumes!.find((v) => v.name === 'tokenwarden-token')!.projected!.sources[0]).toHaveProperty(
      'serviceAccountToken',
    );
    expect(spec.containers.map((c) => c.name)).toEqual(['app']);
  });

  it('passes a caller with a token for the app to the upstream as that service account, when started with exactly its rendered command line and files', async () => {
    appCa = await createCertificateAuthority('app-ca');
    const leaf = await issueCertificate(appCa, { commonName: SERVICE_NAME, dnsNames: [SERVICE_NAME] });
    pod = startRenderedPod(objects, {
      secrets: { 'app-tokenwarden-tls': { 'tls.crt': leaf.cert, 'tls.key': leaf.key } },
      configMaps: { 'kube-root-ca.crt': { 'ca.crt': clusterCa.cert } },
      serviceAccountToken: 'the-apps-projected-token',
    });
    // As the kubelet does before it starts the app: the startup probe, polled (bounded; no timing asserted).
    const startup = pod.container.startupProbe!.httpGet!.path;
    let probed: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 200 && probed?.status !== 200; i++) {
      if (pod.child.exitCode !== null) throw new Error(`tokenwarden exited:\n${pod.output()}`);
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      probed = await get(startup, undefined, endpointsPort).catch(() => undefined);
    }
    expect(probed?.status, pod.output()).toBe(200);
    expect(upstream.received).toEqual([]);
    const answer = await get('/api/orders?id=7', tokenFor(['app']));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ text: 'upstream ok' });
    const seen = upstream.received.at(-1)!;
    expect(seen.url).toBe('/api/orders?id=7');
    expect(upstream.headerLines(seen, 'x-remote-user')).toEqual(['system:serviceaccount:ns1:app']);
    expect(upstream.headerLines(seen, 'authorization')).toEqual([]);
    expect(jwks.authorizations).toContain('Bearer the-apps-projected-token');
  }, 60_000);

  it('refuses a caller without a token or with a token for another audience, without reaching the upstream', async () => {
    const before = upstream.received.length;
    expect((await get('/api/orders')).status).toBe(401);
    expect(
      (await get('/api/orders', tokenFor(['https://kubernetes.default.svc.cluster.local']))).status,
    ).toBe(401);
    expect(upstream.received.length).toBe(before);
  });

  it('counts its decisions on its own /metrics, off the app port', async () => {
    const metrics = await get('/metrics', undefined, endpointsPort);
    expect(String(metrics.body.text)).toMatch(
      /^tokenwarden_proxy_requests_total\{outcome="forwarded"\} [1-9]/m,
    );
    expect(String(metrics.body.text)).toMatch(
      /^tokenwarden_proxy_requests_total\{outcome="unauthenticated"\} [1-9]/m,
    );
  });

  it('lets the ignored probe path through without a token', async () => {
    const answer = await get('/healthz');
    expect(answer.status).toBe(200);
    expect(upstream.received.at(-1)!.url).toBe('/healthz');
  });

  it('refuses an image without a version, and a sidecar without an upstream', async () => {
    const latest = await renderError(
      {
        tokenwarden: {
          image: 'registry.example/tokenwarden:latest',
          tlsSecret: 't',
          upstream: 'http://127.0.0.1:1',
        },
      },
      chart.dir,
    );
    expect(latest).toMatch(/needs a version tag or a digest, not latest/);
    const noUpstream = await renderError(
      { tokenwarden: { image: 'registry.example/tokenwarden:0.1.0', tlsSecret: 't' } },
      chart.dir,
    );
    expect(noUpstream).toMatch(/needs an upstream/);
  });
});
