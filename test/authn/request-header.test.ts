import { Hono } from 'hono';
import { request } from 'node:https';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import {
  identityFromHeaders,
  isIdentityHeader,
  requestHeaderAuthenticator,
} from '../../src/authn/request-header.js';
import { buildAuthentication, type Authentication } from '../../src/compose/authentication.js';
import { authenticationOptions } from '../../src/config/options.js';
import { loadConfig } from '../../src/config/load.js';
import { createCertificateAuthority, issueCertificate, type IssuedCert } from '../../src/dev/certs.js';
import { authnRequestFrom } from '../../src/http/request-identity.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { certificatePem, EKU } from '../../src/x509/build.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { pkiCert } from '../helpers/pki.js';
import { suiteDir, writeFile } from '../helpers/files.js';
import { servingTls, type ServingTls } from '../helpers/tls.js';

const HEADERS = {
  usernameHeaders: ['X-Remote-User'],
  uidHeaders: ['X-Remote-Uid'],
  groupHeaders: ['X-Remote-Group'],
  extraHeaderPrefixes: ['X-Remote-Extra-'],
};

describe('request-header identity (pure parsing)', () => {
  it('reads user, uid, groups per line and extra keys lower-cased then unescaped', () => {
    const id = identityFromHeaders(
      {
        headers: {
          'x-remote-user': ['', 'alice', 'ignored'],
          'x-remote-uid': ['u-1'],
          'x-remote-group': ['a,b', '', 'c'],
          'x-remote-extra-authentication.kubernetes.io%2fpod-name': ['p1', 'p2'],
          'x-remote-extra-scopes': ['x'],
          'x-remote-extra-bad%zz': ['raw'],
          'x-remote-extra-__proto__': ['data'],
        },
      },
      HEADERS,
    );
    expect(id).toEqual({
      username: 'alice',
      uid: 'u-1',
      groups: ['a,b', 'c'],
      extra: {
        'authentication.kubernetes.io/pod-name': ['p1', 'p2'],
        scopes: ['x'],
        'bad%zz': ['raw'],
        ['__proto__']: ['data'],
      },
    });
    expect(({} as Record<string, unknown>).data).toBeUndefined();
    expect(identityFromHeaders({ headers: { 'x-remote-group': ['g'] } }, HEADERS)).toBeUndefined();
  });

  it('flags configured and standard identity headers for stripping', () => {
    const opts = { ...HEADERS, usernameHeaders: ['X-Proxy-User'], extraHeaderPrefixes: ['X-Proxy-Extra-'] };
    for (const h of [
      'x-proxy-user',
      'x-remote-user',
      'x-remote-group',
      'x-remote-extra-a',
      'x-proxy-extra-b',
      'x-remote-uid',
    ]) {
      expect(isIdentityHeader(h, opts)).toBe(true);
    }
    expect(isIdentityHeader('authorization', opts)).toBe(false);
  });

  it("refuses a proxy certificate whose CN is not allowed, with kube's message", async () => {
    const ca = await createCertificateAuthority('rh');
    const proxy = await issueCertificate(ca, { commonName: 'not-the-proxy', usage: 'client' });
    const authn = requestHeaderAuthenticator({
      ...HEADERS,
      roots: () => [parseCertificate(ca.der)],
      allowedNames: ['front-proxy'],
      clock: manualClock(),
    });
    const r = await authn.authenticateRequest({
      headers: { 'x-remote-user': ['admin'] },
      peerCertificates: [proxy.der],
    });
    expect(r.outcome === 'error' && r.error.message).toBe(
      'x509: subject with cn=not-the-proxy is not in the allowed list',
    );
  });
});

describe('client certificate and front-proxy identities over real TLS', () => {
  let tls: ServingTls;
  let clientCa: IssuedCert;
  let proxyCa: IssuedCert;
  let chain: Authentication;
  let server: RunningServer;
  let dirRemove: () => void;

  beforeAll(async () => {
    tls = await servingTls('identity');
    clientCa = await createCertificateAuthority('clients');
    proxyCa = await createCertificateAuthority('front-proxy');
    const { dir, remove } = suiteDir();
    dirRemove = remove;
    const config = loadConfig('serve', [
      `--client-ca-file=${writeFile(dir, 'clients.pem', clientCa.cert)}`,
      `--requestheader-client-ca-file=${writeFile(dir, 'proxy.pem', proxyCa.cert)}`,
      '--requestheader-allowed-names=front-proxy',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-uid-headers=X-Remote-Uid',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--token-auth-file=${writeFile(dir, 'tokens.csv', 'static-secret,carol,c-1,ops\n')}`,
    ]);
    chain = buildAuthentication(authenticationOptions(config), { clock: manualClock(), watch: false });
    const app = new Hono();
    app.get('/whoami', async (c) =>
      c.json(await chain.requestAuthenticator.authenticateRequest(authnRequestFrom(c))),
    );
    server = await startServer({
      app,
      host: '127.0.0.1',
      port: 0,
      tls: { cert: tls.cert, key: tls.key, ca: clientCa.cert },
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await server?.close(1_000);
    chain?.close();
    dirRemove?.();
  });

  function whoami(options: {
    cert?: { readonly cert: string; readonly key: string };
    headers?: Record<string, string | string[]>;
  }): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/whoami',
          ca: tls.ca,
          agent: false,
          headers: options.headers ?? {},
          ...(options.cert ? { cert: options.cert.cert, key: options.cert.key } : {}),
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('identifies a caller by its client certificate', async () => {
    const alice = await issueCertificate(clientCa, {
      commonName: 'alice',
      organizations: ['dev'],
      usage: 'client',
    });
    const r = await whoami({ cert: alice });
    expect(r).toMatchObject({
      outcome: 'authenticated',
      user: { username: 'alice', groups: ['dev', 'system:authenticated'] },
    });
  });

  it('believes identity headers from the trusted front proxy, one group per header line', async () => {
    const proxy = await issueCertificate(proxyCa, { commonName: 'front-proxy', usage: 'client' });
    const r = await whoami({
      cert: proxy,
      headers: {
        'X-Remote-User': 'bob',
        'X-Remote-Uid': 'b-1',
        'X-Remote-Group': ['g1', 'g2,still-g2'],
        'X-Remote-Extra-Authentication.kubernetes.io%2Fpod-name': 'pod-1',
      },
    });
    expect(r).toEqual({
      outcome: 'authenticated',
      user: {
        username: 'bob',
        uid: 'b-1',
        groups: ['g1', 'g2,still-g2', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/pod-name': ['pod-1'] },
      },
      audiences: [],
    });
  });

  it('ignores spoofed identity headers from a client certificate user: it stays itself', async () => {
    const alice = await issueCertificate(clientCa, { commonName: 'alice', usage: 'client' });
    const r = await whoami({
      cert: alice,
      headers: { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' },
    });
    expect(r).toMatchObject({
      outcome: 'authenticated',
      user: { username: 'alice', groups: ['system:authenticated'] },
    });
  });

  it('ignores spoofed identity headers from a caller without a certificate', async () => {
    const r = await whoami({ headers: { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' } });
    expect(r).toEqual({ outcome: 'no-opinion' });
    const withToken = await whoami({
      headers: { 'X-Remote-User': 'admin', authorization: 'Bearer static-secret' },
    });
    expect(withToken).toMatchObject({ outcome: 'authenticated', user: { username: 'carol' } });
  });

  it('refuses headers from a proxy certificate of the right CA but a CN not allowed', async () => {
    const rogue = await issueCertificate(proxyCa, { commonName: 'rogue', usage: 'client' });
    const r = await whoami({ cert: rogue, headers: { 'X-Remote-User': 'admin' } });
    expect(r.outcome).toBe('error');
    expect(JSON.stringify(r)).not.toContain('admin');
  });

  it('refuses headers from a front-proxy certificate issued through an intermediate restricted to serverAuth', async () => {
    const chainThrough = (eku: string) => {
      const inter = pkiCert({
        subject: [['CN', 'proxy-intermediate']],
        issuer: proxyCa,
        ca: true,
        eku: [eku],
      });
      const leaf = pkiCert({ subject: [['CN', 'front-proxy']], issuer: inter, eku: [EKU.clientAuth] });
      return {
        cert: certificatePem(leaf.der) + certificatePem(inter.der),
        key: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      };
    };
    const headers = { 'X-Remote-User': 'anyone', 'X-Remote-Group': 'system:masters' };
    const refused = await whoami({ cert: chainThrough(EKU.serverAuth), headers });
    expect(refused.outcome).toBe('error');
    expect(JSON.stringify(refused)).not.toContain('anyone');
    // The same chain with a clientAuth intermediate is believed: the refusal is the EKU's.
    const believed = await whoami({ cert: chainThrough(EKU.clientAuth), headers });
    expect(believed).toMatchObject({ outcome: 'authenticated', user: { username: 'anyone' } });
  });

  it('refuses headers from a certificate another CA signed', async () => {
    const otherCa = await createCertificateAuthority('front-proxy');
    const fake = await issueCertificate(otherCa, { commonName: 'front-proxy', usage: 'client' });
    const r = await whoami({ cert: fake, headers: { 'X-Remote-User': 'admin' } });
    expect(r.outcome).toBe('error');
  });

  it('answers an unknown bearer token with invalid bearer token', async () => {
    const r = await whoami({ headers: { authorization: 'Bearer nope' } });
    expect(r).toMatchObject({ outcome: 'error', error: {} });
  });
});
