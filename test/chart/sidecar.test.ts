// charts/tokenwarden-sidecar used as its documentation says: an application chart depending on it, adding the
// tokenwarden container and its volumes to the application's pod. Rendered, checked, and the container run.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionsFor } from '../../src/config/schema.js';
import { createCertificateAuthority, issueCertificate, type IssuedCert } from '../../src/dev/certs.js';
import { freePorts } from '../e2e/harness/net.js';
import { boundClaims, mintToken } from '../helpers/tokens.js';
import type { JwksServer } from '../keys/jwks-server.js';
import { startClusterKeys } from './cluster-keys.js';
import { call, ready } from './call.js';
import { helm, podSpec, render, renderError, type K8sObject, HELM_BUILD_TIMEOUT_MS } from './helm.js';
import { startRenderedPod, type StartedPod } from './pod.js';

const LIBRARY = fileURLToPath(new URL('../../charts/tokenwarden-sidecar', import.meta.url));

const APP_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: {{ .Release.Namespace }}
spec:
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      serviceAccountName: app
      initContainers:
        {{- include "tokenwarden.sidecar.container" .Values.tokenwarden | nindent 8 }}
      containers:
        - name: app
          image: registry.example/app:1.0.0
      volumes:
        {{- include "tokenwarden.sidecar.volumes" .Values.tokenwarden | nindent 8 }}
`;

/** An application chart in a temp dir with the library in its charts/, as `helm dependency build` leaves it. */
function appChart(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tokenwarden-app-chart-'));
  writeFileSync(
    join(dir, 'Chart.yaml'),
    'apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n  - name: tokenwarden-sidecar\n    version: 0.1.0\n',
  );
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'templates', 'deployment.yaml'), APP_DEPLOYMENT);
  cpSync(LIBRARY, join(dir, 'charts', 'tokenwarden-sidecar'), { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const SERVE_FLAGS = new Set(optionsFor('serve').map((o) => o.name));

describe('the tokenwarden sidecar in an application chart', () => {
  let chart: { dir: string; remove(): void };
  let objects: readonly K8sObject[];
  let port: number;
  let clusterCa: IssuedCert;
  let localhostCa: IssuedCert;
  let jwks: JwksServer;
  let pod: StartedPod | undefined;

  beforeAll(async () => {
    helm();
    chart = appChart();
    [port] = (await freePorts(1)) as [number];
    ({ ca: clusterCa, jwks } = await startClusterKeys());
    objects = (
      await render(
        {
          tokenwarden: {
            image: 'registry.example/tokenwarden:0.1.0',
            tlsSecret: 'app-tokenwarden-tls',
            port,
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
    await jwks?.close();
    chart?.remove();
  }, 60_000);

  it('adds a native sidecar running serve on localhost with flags serve has, restricted like the chart', () => {
    const spec = podSpec(objects);
    const sidecar = spec.initContainers!.find((c) => c.name === 'tokenwarden')!;
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.args![0]).toBe('serve');
    for (const a of sidecar.args!.slice(1)) expect(SERVE_FLAGS).toContain(/^--([a-z0-9-]+)/.exec(a)![1]);
    expect(sidecar.args).toContain('--bind-address=127.0.0.1');
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

  it('reviews a token on localhost when started with exactly its rendered command line and files', async () => {
    localhostCa = await createCertificateAuthority('app-ca');
    const leaf = await issueCertificate(localhostCa, { commonName: 'localhost', dnsNames: ['localhost'] });
    pod = startRenderedPod(objects, {
      secrets: { 'app-tokenwarden-tls': { 'tls.crt': leaf.cert, 'tls.key': leaf.key } },
      configMaps: { 'kube-root-ca.crt': { 'ca.crt': clusterCa.cert } },
      serviceAccountToken: 'the-apps-projected-token',
    });
    await ready(pod, { ca: localhostCa.cert, servername: 'localhost' });
    const token = mintToken({ claims: boundClaims({}, Math.floor(Date.now() / 1000)) });
    const answer = await call({
      port,
      ca: localhostCa.cert,
      servername: 'localhost',
      path: '/apis/authentication.k8s.io/v1/tokenreviews',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    expect(answer.body.status).toMatchObject({
      authenticated: true,
      user: { username: 'system:serviceaccount:ns1:app' },
    });
    expect(jwks.authorizations).toContain('Bearer the-apps-projected-token');
  });

  it('refuses an image without a version', async () => {
    const error = await renderError(
      { tokenwarden: { image: 'registry.example/tokenwarden:latest', tlsSecret: 't' } },
      chart.dir,
    );
    expect(error).toMatch(/needs a version tag or a digest, not latest/);
  });
});
