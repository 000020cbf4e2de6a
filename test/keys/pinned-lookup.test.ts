import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueCertificate } from '../../src/dev/certs.js';
import { fetchDocument } from '../../src/keys/fetch.js';
import type { HostLookup } from '../../src/keys/pinned-lookup.js';
import { rsaKey } from '../helpers/keys.js';
import type { ServingTls } from '../helpers/tls.js';
import { json, jwksBody, serverPool, startJwksServer } from './jwks-server.js';

const { cleanup, server } = serverPool();

/** A serving pair for a name no real resolver knows, so only an injected lookup can reach it. */
async function tlsFor(name: string): Promise<ServingTls> {
  const authority = await createCertificateAuthority(`${name}-ca`);
  const leaf = await issueCertificate(authority, { commonName: name, dnsNames: [name] });
  return { ca: authority.cert, cert: `${leaf.cert}${authority.cert}`, key: leaf.key, authority };
}

/** A lookup that answers from a script, one entry per call (the last repeats), and records what it was asked. */
function scriptedLookup(...answers: string[][]): HostLookup & { asked: string[] } {
  const asked: string[] = [];
  const lookup = (name: string) => {
    asked.push(name);
    const answer = answers[Math.min(asked.length, answers.length) - 1]!;
    return Promise.resolve(answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  return Object.assign(lookup, { asked });
}

const LIMITS = { timeoutMs: 2_000, maxBytes: 64 * 1024 };

describe('pinned name resolution for key fetches (SSRF)', () => {
  it('connects to the address it checked and resolves once, so a rebinding answer is never used', async () => {
    const name = 'jwks.pinned.test';
    const tls = await tlsFor(name);
    const s = await startJwksServer({ tls });
    cleanup.push(() => s.close());
    let host: string | undefined;
    s.respond('/jwks', (req, res) => {
      host = req.headers.host;
      json(jwksBody([rsaKey()]))(req, res);
    });
    // A rebinding resolver: loopback (allowed here) first, the metadata address after.
    const lookup = scriptedLookup(['127.0.0.1'], ['169.254.169.254']);
    const url = `https://${name}:${s.port}/jwks`;
    const doc = await fetchDocument(url, { ...LIMITS, ca: tls.ca, allowLoopback: true, lookup });
    expect(JSON.parse(doc.body)).toHaveProperty('keys');
    expect(lookup.asked).toEqual([name]); // Node's connect asked the pinned answer, not DNS
    expect(s.connections).toBe(1);
    expect(host).toBe(`${name}:${s.port}`); // SNI and Host keep the name: the certificate for it verified

    // The next fetch resolves afresh, and its answer is checked before any connection.
    await expect(
      fetchDocument(url, { ...LIMITS, ca: tls.ca, allowLoopback: true, lookup }),
    ).rejects.toMatchObject({ reason: 'refused-address' });
    expect(lookup.asked).toEqual([name, name]);
    expect(s.connections).toBe(1);
  });

  it('refuses the metadata address even with loopback allowed, without connecting anywhere', async () => {
    const s = await server();
    s.serveKeys([rsaKey()]);
    // One good answer does not redeem a refused one: the name is refused whole.
    const lookup = scriptedLookup(['127.0.0.1', '169.254.169.254']);
    await expect(
      fetchDocument(`https://localhost:${s.port}/jwks`, {
        ...LIMITS,
        ca: s.tls.ca,
        allowLoopback: true,
        lookup,
      }),
    ).rejects.toMatchObject({ reason: 'refused-address', message: expect.stringContaining('metadata') });
    expect(lookup.asked).toEqual(['localhost']);
    expect(s.connections).toBe(0);

    // Written as an IP, it is checked as written: no lookup, no connection attempt.
    const literal = scriptedLookup(['127.0.0.1']);
    for (const url of ['https://169.254.169.254/latest/meta-data/', 'https://[fd00:ec2::254]/latest/']) {
      await expect(
        fetchDocument(url, { ...LIMITS, allowLoopback: true, lookup: literal }),
      ).rejects.toMatchObject({ reason: 'refused-address' });
    }
    expect(literal.asked).toEqual([]);
  });

  it('counts a name that does not resolve as a network failure, and a lookup that hangs as a timeout', async () => {
    const missing: HostLookup = () => Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
    await expect(
      fetchDocument('https://keys.invalid/jwks', { ...LIMITS, lookup: missing }),
    ).rejects.toMatchObject({ reason: 'network', message: expect.stringContaining('ENOTFOUND') });
    const hanging: HostLookup = () => new Promise(() => {});
    await expect(
      fetchDocument('https://keys.invalid/jwks', { ...LIMITS, timeoutMs: 50, lookup: hanging }),
    ).rejects.toMatchObject({ reason: 'timeout' });
  });
});
