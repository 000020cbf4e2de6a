// The test that cannot be faked: the chart's rendered container command line, environment and mounted files, run
// with the built tokenwarden, reviewing tokens as kube-apiserver would call it.
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueCertificate, type IssuedCert } from '../../src/dev/certs.js';
import { freePorts } from '../e2e/harness/net.js';
import { rsaKey } from '../helpers/keys.js';
import { boundClaims, ISSUER, mintToken } from '../helpers/tokens.js';
import type { JwksServer } from '../keys/jwks-server.js';
import { startClusterKeys } from './cluster-keys.js';
import { helm, render, type K8sObject, HELM_BUILD_TIMEOUT_MS } from './helm.js';
import { call as callAs, ready as readyAs, type Answer, type Caller } from './call.js';
import { startRenderedPod, type ClusterState, type StartedPod } from './pod.js';
import { POLICIES, VALUES_SETS } from './values-sets.js';

const SERVICE_NAME = 'tw-tokenwarden.tokenwarden.svc';
const call = (port: number, ca: string, path: string, caller: Caller, body?: object): Promise<Answer> =>
  callAs({ port, ca, servername: SERVICE_NAME, path, caller, ...(body ? { body } : {}) });
const ready = (pod: StartedPod, ca: string): Promise<void> => readyAs(pod, { ca, servername: SERVICE_NAME });

/** The serial number of the certificate a new TLS connection is served, as X509Certificate prints it. */
function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: SERVICE_NAME, ca }, () => {
      const serial = socket.getPeerX509Certificate()?.serialNumber ?? '';
      socket.destroy();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}

/** Whether a TLS handshake with the given client limits succeeds against the pod's listener. */
function handshakes(
  port: number,
  ca: string,
  limits: { maxVersion?: 'TLSv1.2' | 'TLSv1.3'; ciphers?: string },
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, servername: SERVICE_NAME, ca, ...limits }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

const tokenReview = (token: string): object => ({
  apiVersion: 'authentication.k8s.io/v1',
  kind: 'TokenReview',
  spec: { token },
});
const REVIEW = '/apis/authentication.k8s.io/v1/tokenreviews';
const SAR = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
const sar = (group: string): object => ({
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SubjectAccessReview',
  spec: {
    user: 'jane',
    groups: [group],
    resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'default' },
  },
});

function serviceAccountToken(namespace: string, name: string): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = boundClaims({ sub: `system:serviceaccount:${namespace}:${name}` }, now);
  const priv = claims['kubernetes.io'] as Record<string, unknown>;
  return mintToken({
    claims: {
      ...claims,
      'kubernetes.io': {
        ...priv,
        namespace,
        serviceaccount: { name, uid: 'a6a5e1b4-3c1e-4f0e-9d51-000000000001' },
      },
    },
  });
}

let clusterCa: IssuedCert;
let apiserverClient: IssuedCert;
let strangerClient: IssuedCert;
let jwks: JwksServer;

beforeAll(async () => {
  helm();
  // One cluster CA, as kubeadm has: it signs kube-apiserver's serving certificate (here the JWKS endpoint's) and
  // its client certificates.
  ({ ca: clusterCa, jwks } = await startClusterKeys());
  apiserverClient = await issueCertificate(clusterCa, {
    commonName: 'kube-apiserver-kubelet-client',
    organizations: ['kubeadm:cluster-admins'],
    usage: 'client',
  });
  strangerClient = await issueCertificate(clusterCa, { commonName: 'someone-else', usage: 'client' });
}, HELM_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await jwks?.close();
});

describe("the default chart's Deployment, started with its own command line", () => {
  let pod: StartedPod;
  let ca: string;
  const podToken = 'the-pods-projected-token';

  beforeAll(async () => {
    const [port] = (await freePorts(1)) as [number];
    const { objects } = await render({
      containerPort: port,
      serviceAccountTokens: { clusterKeys: { jwksUri: jwks.url } },
    });
    const secret = objects.find((o) => o.kind === 'Secret') as K8sObject & { data: Record<string, string> };
    ca = Buffer.from(secret.data['ca.crt']!, 'base64').toString('utf8');
    const cluster: ClusterState = {
      configMaps: { 'kube-root-ca.crt': { 'ca.crt': clusterCa.cert } },
      serviceAccountToken: podToken,
    };
    pod = startRenderedPod(objects, cluster);
    await ready(pod, ca);
  }, 120_000);

  afterAll(async () => {
    await pod?.stop();
  }, 60_000);

  it("authenticates a service-account token for kube-apiserver's client certificate", async () => {
    const answer = await call(
      pod.port,
      ca,
      REVIEW,
      apiserverClient,
      tokenReview(mintToken({ claims: boundClaims({}, Math.floor(Date.now() / 1000)) })),
    );
    expect(answer.status).toBe(200);
    expect(answer.body.status).toMatchObject({
      authenticated: true,
      user: { username: 'system:serviceaccount:ns1:app' },
      audiences: [ISSUER],
    });
  });

  it("fetched the cluster's keys with the pod's projected token, trusting the cluster CA", () => {
    expect(jwks.authorizations).toContain(`Bearer ${podToken}`);
  });

  it('refuses a caller without a client certificate (401) and one the caller policy does not name (403)', async () => {
    const token = mintToken({ claims: boundClaims({}, Math.floor(Date.now() / 1000)) });
    expect((await call(pod.port, ca, REVIEW, {}, tokenReview(token))).status).toBe(401);
    expect((await call(pod.port, ca, REVIEW, strangerClient, tokenReview(token))).status).toBe(403);
  });

  it('answers its liveness and startup probes', async () => {
    for (const probe of [pod.container.livenessProbe!, pod.container.startupProbe!])
      expect((await call(pod.port, ca, probe.httpGet!.path, {})).status).toBe(200);
  });
});

describe('an existing TLS Secret, key files from a ConfigMap, inline RBAC policies and a service-account caller', () => {
  let pod: StartedPod;
  let serving: IssuedCert;
  let servingCa: IssuedCert;

  beforeAll(async () => {
    const [port] = (await freePorts(1)) as [number];
    servingCa = await createCertificateAuthority('corp-ca');
    serving = await issueCertificate(servingCa, {
      commonName: 'tokenwarden',
      dnsNames: [SERVICE_NAME],
      usage: 'server',
    });
    const { objects } = await render({
      containerPort: port,
      shutdown: { delaySeconds: 0 },
      tls: {
        mode: 'secret',
        secretName: 'tokenwarden-serving',
        cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
      },
      serviceAccountTokens: {
        clusterKeys: { enabled: false },
        keyFiles: [{ name: 'sa', configMap: 'sa-keys', key: 'sa.pub' }],
      },
      authorization: { policies: POLICIES },
      authorizeCallers: { users: [], serviceAccounts: [{ namespace: 'vault', name: 'vault' }] },
      metrics: { scrapers: { serviceAccounts: [{ namespace: 'monitoring', name: 'prometheus' }] } },
    });
    pod = startRenderedPod(objects, {
      secrets: {
        'tokenwarden-serving': { 'tls.crt': `${serving.cert}${servingCa.cert}`, 'tls.key': serving.key },
      },
      configMaps: {
        'sa-keys': { 'sa.pub': rsaKey().publicPem },
        'kube-root-ca.crt': { 'ca.crt': clusterCa.cert },
      },
      serviceAccountToken: 'unused',
    });
    await ready(pod, servingCa.cert);
  }, 120_000);

  afterAll(async () => {
    await pod?.stop();
  }, 60_000);

  it('answers SubjectAccessReviews from the inline policy for the service account it lets call', async () => {
    const vault = { bearer: serviceAccountToken('vault', 'vault') };
    const allowed = await call(pod.port, servingCa.cert, SAR, vault, sar('devs'));
    expect(allowed.status).toBe(200);
    expect(allowed.body.status).toMatchObject({ allowed: true });
    const denied = await call(pod.port, servingCa.cert, SAR, vault, sar('others'));
    expect(denied.body.status).not.toMatchObject({ allowed: true });
  });

  it('negotiates TLS 1.2 only with the cipher suites of tls.cipherSuites', async () => {
    const tls12 = { maxVersion: 'TLSv1.2' } as const;
    expect(
      await handshakes(pod.port, servingCa.cert, { ...tls12, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }),
    ).toBe(true);
    expect(
      await handshakes(pod.port, servingCa.cert, { ...tls12, ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }),
    ).toBe(false);
  });

  it('serves a renewed certificate once the kubelet updates the Secret volume, without a restart', async () => {
    const renewed = await issueCertificate(servingCa, {
      commonName: 'tokenwarden',
      dnsNames: [SERVICE_NAME],
      usage: 'server',
    });
    const renewedSerial = new X509Certificate(renewed.cert).serialNumber;
    expect(await servedSerial(pod.port, servingCa.cert)).not.toBe(renewedSerial);
    pod.updateSecret('tokenwarden-serving', {
      'tls.crt': `${renewed.cert}${servingCa.cert}`,
      'tls.key': renewed.key,
    });
    let served = '';
    // The reload follows a file event; bounded polling, no timing asserted.
    for (let i = 0; i < 300 && served !== renewedSerial; i++) {
      await new Promise((r) => setTimeout(r, 100));
      served = await servedSerial(pod.port, servingCa.cert);
    }
    expect(served).toBe(renewedSerial);
    expect(pod.child.exitCode).toBeNull();
  });

  it('serves /metrics to the scraper it names and to no other caller', async () => {
    const prometheus = { bearer: serviceAccountToken('monitoring', 'prometheus') };
    const scraped = await call(pod.port, servingCa.cert, '/metrics', prometheus);
    expect(scraped.status).toBe(200);
    expect(String(scraped.body.text)).toContain('tokenwarden_build_info');
    expect((await call(pod.port, servingCa.cert, '/metrics', {})).status).toBe(401);
    const vault = { bearer: serviceAccountToken('vault', 'vault') };
    expect((await call(pod.port, servingCa.cert, '/metrics', vault)).status).toBe(403);
  });

  it('reviews tokens with the key file and refuses callers it was not told about', async () => {
    const vault = { bearer: serviceAccountToken('vault', 'vault') };
    const app = serviceAccountToken('ns1', 'app');
    const answer = await call(pod.port, servingCa.cert, REVIEW, vault, tokenReview(app));
    expect(answer.body.status).toMatchObject({
      authenticated: true,
      user: { username: 'system:serviceaccount:ns1:app' },
    });
    const stranger = { bearer: serviceAccountToken('ns1', 'app') };
    expect((await call(pod.port, servingCa.cert, REVIEW, stranger, tokenReview(app))).status).toBe(403);
  });
});

describe('the cert-manager chart with two workers, with the Secret its Certificate names', () => {
  let pod: StartedPod;
  let issuerCa: IssuedCert;

  beforeAll(async () => {
    const [port] = (await freePorts(1)) as [number];
    const { objects } = await render({
      containerPort: port,
      shutdown: { delaySeconds: 0 },
      tls: { mode: 'certManager', minVersion: 'VersionTLS13' },
      workers: 2,
      serviceAccountTokens: { clusterKeys: { jwksUri: jwks.url } },
    });
    const certificate = objects.find(
      (o) => o.kind === 'Certificate' && o.metadata.name === 'tw-tokenwarden',
    ) as (K8sObject & { spec: { secretName: string; dnsNames: string[] } }) | undefined;
    // What cert-manager writes to the Certificate's secretName: tls.crt, tls.key and the issuing CA as ca.crt.
    issuerCa = await createCertificateAuthority('tw-tokenwarden-ca');
    const leaf = await issueCertificate(issuerCa, {
      commonName: 'tw-tokenwarden',
      dnsNames: certificate!.spec.dnsNames,
      usage: 'server',
    });
    pod = startRenderedPod(objects, {
      secrets: {
        [certificate!.spec.secretName]: {
          'tls.crt': leaf.cert,
          'tls.key': leaf.key,
          'ca.crt': issuerCa.cert,
        },
      },
      configMaps: { 'kube-root-ca.crt': { 'ca.crt': clusterCa.cert } },
      serviceAccountToken: 'the-pods-projected-token',
    });
    await ready(pod, issuerCa.cert);
  }, 120_000);

  afterAll(async () => {
    await pod?.stop();
  }, 60_000);

  it('refuses a TLS 1.2 client with tls.minVersion VersionTLS13', async () => {
    expect(await handshakes(pod.port, issuerCa.cert, { maxVersion: 'TLSv1.2' })).toBe(false);
    expect(await handshakes(pod.port, issuerCa.cert, {})).toBe(true);
  });

  it('serves the certificate cert-manager issued and authenticates a token', async () => {
    const token = mintToken({ claims: boundClaims({}, Math.floor(Date.now() / 1000)) });
    const answer = await call(pod.port, issuerCa.cert, REVIEW, apiserverClient, tokenReview(token));
    expect(answer.body.status).toMatchObject({ authenticated: true });
  });
});

describe('an authorization-only install: no issuer, only RBAC policy', () => {
  let pod: StartedPod;
  let ca: string;

  beforeAll(async () => {
    const [port] = (await freePorts(1)) as [number];
    const { objects } = await render({
      ...VALUES_SETS['authorization-only'],
      containerPort: port,
      shutdown: { delaySeconds: 0 },
    });
    const secret = objects.find((o) => o.kind === 'Secret') as K8sObject & { data: Record<string, string> };
    ca = Buffer.from(secret.data['ca.crt']!, 'base64').toString('utf8');
    // No projected token is read: nothing fetches keys.
    pod = startRenderedPod(objects, {
      configMaps: { 'kube-root-ca.crt': { 'ca.crt': clusterCa.cert } },
      serviceAccountToken: 'unused',
    });
    await ready(pod, ca);
  }, 120_000);

  afterAll(async () => {
    await pod?.stop();
  }, 60_000);

  it("answers kube-apiserver's SubjectAccessReviews from the policy", async () => {
    const allowed = await call(pod.port, ca, SAR, apiserverClient, sar('devs'));
    expect(allowed.status).toBe(200);
    expect(allowed.body.status).toMatchObject({ allowed: true });
    const denied = await call(pod.port, ca, SAR, apiserverClient, sar('others'));
    expect(denied.body.status).not.toMatchObject({ allowed: true });
  });

  it('authenticates no token', async () => {
    const token = mintToken({ claims: boundClaims({}, Math.floor(Date.now() / 1000)) });
    const answer = await call(pod.port, ca, REVIEW, apiserverClient, tokenReview(token));
    expect(answer.body.status).not.toMatchObject({ authenticated: true });
  });
});
