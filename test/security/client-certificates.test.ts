import 'reflect-metadata';
import * as px509 from '@peculiar/x509';
import type { ChildProcess } from 'node:child_process';
import { KeyObject, webcrypto } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { finished, logLine, requireBuiltBin, spawnCli } from '../helpers/cli.js';
import { suiteDir, writeFile } from '../helpers/files.js';
import { httpsRequest, type HttpsResponse } from '../helpers/http.js';
import { rsaKey } from '../helpers/keys.js';
import { reviewPath, tokenReview } from '../helpers/server.js';
import { servingTls, type ServingTls } from '../helpers/tls.js';
import { boundClaims, ISSUER, mintToken } from '../helpers/tokens.js';

/**
 * Issue 15 finding 2: client certificate chains that Go's crypto/x509 refuses, presented
 * to the built `serve` with `--authorize-callers`. kube-apiserver verifies a client chain
 * with `x509.Verify` and `ExtKeyUsageClientAuth`: extended key usage nested along the
 * chain, path length, name constraints, unknown critical extensions, insecure signature
 * algorithms and validity. Every leaf here claims `O=system:masters`, so a chain that is
 * wrongly accepted is a caller allowed everything.
 */

const ECDSA = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const EKU = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' } as const;

interface Node {
  readonly certificate: px509.X509Certificate;
  readonly keys: webcrypto.CryptoKeyPair;
  readonly pem: string;
  readonly keyPem: string;
}

interface CertSpec {
  readonly subject: string;
  /** Self-signed when absent. */
  readonly issuer?: Node;
  readonly ca?: boolean;
  readonly pathLength?: number;
  readonly eku?: readonly string[];
  readonly extensions?: readonly px509.Extension[];
  readonly hash?: 'SHA-256' | 'SHA-1';
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly sans?: readonly string[];
}

let serial = 1;

/** One certificate with exactly the extensions the case needs, by @peculiar/x509. */
async function issue(spec: CertSpec): Promise<Node> {
  const keys = await webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify']);
  const ca = spec.ca ?? false;
  const extensions: px509.Extension[] = [
    new px509.BasicConstraintsExtension(ca, spec.pathLength, true),
    new px509.KeyUsagesExtension(
      ca
        ? px509.KeyUsageFlags.keyCertSign | px509.KeyUsageFlags.cRLSign
        : px509.KeyUsageFlags.digitalSignature | px509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    await px509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ...(spec.eku ? [new px509.ExtendedKeyUsageExtension([...spec.eku], false)] : []),
    ...(spec.sans
      ? [
          new px509.SubjectAlternativeNameExtension(
            spec.sans.map((value) => ({ type: 'dns' as const, value })),
          ),
        ]
      : []),
    ...(spec.issuer ? [await px509.AuthorityKeyIdentifierExtension.create(spec.issuer.keys.publicKey)] : []),
    ...(spec.extensions ?? []),
  ];
  const notBefore = spec.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = spec.notAfter ?? new Date(Date.now() + 86_400_000);
  const signingAlgorithm = { ...ECDSA, hash: spec.hash ?? 'SHA-256' };
  const certificate = spec.issuer
    ? await px509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(4, '0'),
        subject: spec.subject,
        issuer: spec.issuer.certificate.subject,
        notBefore,
        notAfter,
        signingAlgorithm,
        publicKey: keys.publicKey,
        signingKey: spec.issuer.keys.privateKey,
        extensions,
      })
    : await px509.X509CertificateGenerator.createSelfSigned({
        serialNumber: (serial++).toString(16).padStart(4, '0'),
        name: spec.subject,
        notBefore,
        notAfter,
        signingAlgorithm,
        keys,
        extensions,
      });
  return {
    certificate,
    keys,
    pem: `${certificate.toString('pem').trim()}\n`,
    keyPem: KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

/** NameConstraints (2.5.29.30), critical, permitting only DNS names under example.com. */
const PERMIT_EXAMPLE_COM = new px509.Extension(
  '2.5.29.30',
  true,
  Buffer.from('3011a00f300d820b6578616d706c652e636f6d', 'hex'),
);
/** An extension no verifier knows, marked critical: Go refuses the certificate. */
const UNKNOWN_CRITICAL = new px509.Extension('1.3.6.1.4.1.55555.1', true, new Uint8Array([0x05, 0x00]));

const files = suiteDir();
let tls: ServingTls;
let root: Node;
let proxyRoot: Node;
let child: ChildProcess;
let port: number;

beforeAll(async () => {
  requireBuiltBin();
  tls = await servingTls('client-chains');
  root = await issue({ subject: 'CN=client-root', ca: true });
  proxyRoot = await issue({ subject: 'CN=front-proxy-root', ca: true });
  child = spawnCli([
    'serve',
    '--secure-port=0',
    '--bind-address=127.0.0.1',
    `--service-account-issuer=${ISSUER}`,
    `--service-account-key-file=${writeFile(files.dir, 'sa.pub', rsaKey().publicPem)}`,
    `--tls-cert-file=${writeFile(files.dir, 'tls.crt', tls.cert)}`,
    `--tls-private-key-file=${writeFile(files.dir, 'tls.key', tls.key)}`,
    `--client-ca-file=${writeFile(files.dir, 'client-ca.pem', root.pem)}`,
    `--requestheader-client-ca-file=${writeFile(files.dir, 'proxy-ca.pem', proxyRoot.pem)}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--authorize-callers',
  ]);
  const exited = finished(child);
  void exited;
  port = (await logLine(child, 'tokenwarden is serving')).port as number;
});
afterAll(async () => {
  if (child && child.exitCode === null) {
    const done = finished(child);
    child.kill('SIGTERM');
    await done;
  }
  files.remove();
});
afterEach(async () => {
  const ready = await httpsRequest({ port, ca: tls.ca, path: '/readyz' });
  expect(ready.status).toBe(200);
});

/** A TokenReview sent with the client chain `leaf, ...intermediates` (and headers). */
function reviewAs(
  leaf: Node,
  intermediates: readonly Node[],
  headers: Record<string, string> = {},
): Promise<HttpsResponse> {
  return httpsRequest({
    port,
    ca: tls.ca,
    method: 'POST',
    path: reviewPath(),
    headers: { 'content-type': 'application/json', ...headers },
    // `serve` runs on the system clock: a token valid now.
    body: JSON.stringify(tokenReview(mintToken({ claims: boundClaims({}, Math.floor(Date.now() / 1000)) }))),
    clientCert: {
      cert: [leaf, ...intermediates].map((n) => n.pem).join(''),
      key: leaf.keyPem,
      weakSignatures: [leaf, ...intermediates].some(
        (n) => n.certificate.signatureAlgorithm.hash.name === 'SHA-1',
      ),
    },
  });
}

function expectUnauthorized(res: HttpsResponse): void {
  expect(res.status, res.body).toBe(401);
  expect(res.json()).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
}

const masters = (issuer: Node, extra: Partial<CertSpec> = {}) =>
  issue({ subject: 'CN=mallory, O=system:masters', issuer, eku: [EKU.clientAuth], ...extra });

describe('client certificate chains (finding 2)', () => {
  it('lets a caller through whose chain Go verifies: leaf ← CA intermediate ← root', async () => {
    const intermediate = await issue({ subject: 'CN=good-intermediate', issuer: root, ca: true });
    const res = await reviewAs(await masters(intermediate), [intermediate]);
    expect(res.status, res.body).toBe(200);
    expect(res.json()).toMatchObject({ kind: 'TokenReview', status: { authenticated: true } });
  });

  it('refuses a chain through an intermediate restricted to serverAuth', async () => {
    const intermediate = await issue({
      subject: 'CN=server-only',
      issuer: root,
      ca: true,
      eku: [EKU.serverAuth],
    });
    expectUnauthorized(await reviewAs(await masters(intermediate), [intermediate]));
  });

  it('refuses a leaf restricted to serverAuth', async () => {
    expectUnauthorized(await reviewAs(await masters(root, { eku: [EKU.serverAuth] }), []));
  });

  it('refuses a sub-CA signed by a pathlen:0 intermediate', async () => {
    const intermediate = await issue({ subject: 'CN=pathlen-0', issuer: root, ca: true, pathLength: 0 });
    const sub = await issue({ subject: 'CN=sub-ca', issuer: intermediate, ca: true });
    expectUnauthorized(await reviewAs(await masters(sub), [sub, intermediate]));
  });

  it('refuses a leaf outside the name constraints of its intermediate', async () => {
    const intermediate = await issue({
      subject: 'CN=constrained',
      issuer: root,
      ca: true,
      extensions: [PERMIT_EXAMPLE_COM],
    });
    expectUnauthorized(await reviewAs(await masters(intermediate, { sans: ['evil.test'] }), [intermediate]));
  });

  it('refuses an unknown critical extension in the leaf or an intermediate', async () => {
    const odd = await issue({ subject: 'CN=odd', issuer: root, ca: true, extensions: [UNKNOWN_CRITICAL] });
    expectUnauthorized(await reviewAs(await masters(odd), [odd]));
    expectUnauthorized(await reviewAs(await masters(root, { extensions: [UNKNOWN_CRITICAL] }), []));
  });

  it('refuses a leaf signed with SHA-1', async () => {
    expectUnauthorized(await reviewAs(await masters(root, { hash: 'SHA-1' }), []));
  });

  it('refuses a chain through a certificate that is not a CA', async () => {
    const notCa = await issue({ subject: 'CN=not-a-ca', issuer: root, ca: false, eku: [EKU.clientAuth] });
    expectUnauthorized(await reviewAs(await masters(notCa), [notCa]));
  });

  it('refuses a chain through an expired or not yet valid intermediate', async () => {
    const hour = 3_600_000;
    const expired = await issue({
      subject: 'CN=expired',
      issuer: root,
      ca: true,
      notBefore: new Date(Date.now() - 2 * hour),
      notAfter: new Date(Date.now() - hour),
    });
    expectUnauthorized(await reviewAs(await masters(expired), [expired]));
    const future = await issue({
      subject: 'CN=future',
      issuer: root,
      ca: true,
      notBefore: new Date(Date.now() + hour),
    });
    expectUnauthorized(await reviewAs(await masters(future), [future]));
  });

  it('refuses a chain that reaches no configured root', async () => {
    const stranger = await issue({ subject: 'CN=stranger-root', ca: true });
    expectUnauthorized(await reviewAs(await masters(stranger), [stranger]));
  });
});

describe('front-proxy certificates (finding 2, --requestheader-client-ca-file)', () => {
  const asAnyone = { 'X-Remote-User': 'anyone', 'X-Remote-Group': 'system:masters' };
  const proxy = (issuer: Node, extra: Partial<CertSpec> = {}) =>
    issue({ subject: 'CN=front-proxy-client', issuer, eku: [EKU.clientAuth], ...extra });

  it('believes the identity headers of a proxy whose chain Go verifies', async () => {
    const intermediate = await issue({ subject: 'CN=proxy-intermediate', issuer: proxyRoot, ca: true });
    const res = await reviewAs(await proxy(intermediate), [intermediate], asAnyone);
    expect(res.status, res.body).toBe(200);
  });

  it('ignores the identity headers of a proxy certificate issued through a serverAuth-only intermediate', async () => {
    const intermediate = await issue({
      subject: 'CN=proxy-server-only',
      issuer: proxyRoot,
      ca: true,
      eku: [EKU.serverAuth],
    });
    expectUnauthorized(await reviewAs(await proxy(intermediate), [intermediate], asAnyone));
  });

  it('ignores the identity headers of a proxy certificate with an unknown critical extension', async () => {
    expectUnauthorized(
      await reviewAs(await proxy(proxyRoot, { extensions: [UNKNOWN_CRITICAL] }), [], asAnyone),
    );
  });
});
