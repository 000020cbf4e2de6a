import 'reflect-metadata';
import * as px509 from '@peculiar/x509';
import { createHash, X509Certificate } from 'node:crypto';
import type { Clock } from '../clock.js';
import { TokenwardenError } from '../errors.js';
import { EXTRA_CREDENTIAL_ID, type UserInfo } from '../user.js';
import {
  failure,
  NO_OPINION,
  type AuthnRequest,
  type AuthnResult,
  type RequestAuthenticator,
} from './authenticator.js';

const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';
const UID_OID = '0.9.2342.19200300.100.1.1';
/** Longest chain walked: leaf, intermediates, root (Go's verifier has no fixed bound; real chains are 2–4). */
const MAX_CHAIN_DEPTH = 8;

/** A PEM bundle → certificates; throws naming `origin` when a block is not a certificate. */
export function parseCertificateBundle(pem: string, origin: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const certs = blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch {
      throw new TokenwardenError(
        'ERR_CONFIG_INVALID',
        `${origin}: PEM block ${i + 1} is not a valid certificate`,
      );
    }
  });
  if (certs.length === 0)
    throw new TokenwardenError('ERR_CONFIG_INVALID', `${origin}: no certificates found`);
  return certs;
}

function colonHex(hex: string | undefined): string {
  return (hex ?? '').toUpperCase().match(/../g)?.join(':') ?? '';
}

/**
 * kube's `certificateIdentifier`: `SN=<decimal>, SKID=<AA:BB:..>, AKID=<AA:BB:..>`, the
 * prefix of every verification error, so an operator can find the certificate.
 */
export function certificateIdentifier(cert: X509Certificate): string {
  let skid: string | undefined;
  let akid: string | undefined;
  try {
    const parsed = new px509.X509Certificate(cert.raw);
    skid = parsed.getExtension(px509.SubjectKeyIdentifierExtension)?.keyId;
    akid = parsed.getExtension(px509.AuthorityKeyIdentifierExtension)?.keyId;
  } catch {
    // Identification is best effort; the verdict does not depend on it.
  }
  return `SN=${BigInt(`0x${cert.serialNumber}`).toString(10)}, SKID=${colonHex(skid)}, AKID=${colonHex(akid)}`;
}

function validAt(cert: X509Certificate, nowMs: number): boolean {
  return Date.parse(cert.validFrom) <= nowMs && nowMs <= Date.parse(cert.validTo);
}

function issues(issuer: X509Certificate, child: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

export type ChainVerdict = { readonly ok: true } | { readonly ok: false; readonly error: TokenwardenError };

/**
 * Go's `x509.Certificate.Verify` with `ExtKeyUsageClientAuth`, as kube's x509 request
 * authenticator calls it: the leaf must chain, through the intermediates the client
 * presented, to a certificate of the bundle; every certificate must be within its
 * validity period, intermediates must be CAs, and a leaf that lists extended key usages
 * must include client authentication. Failures carry kube's wording.
 */
export function verifyClientChain(
  presented: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  nowMs: number,
): ChainVerdict {
  const leaf = presented[0];
  if (!leaf) return { ok: false, error: new TokenwardenError('ERR_TOKEN_INVALID', 'no client certificate') };
  const fail = (reason: string): ChainVerdict => ({
    ok: false,
    error: new TokenwardenError(
      'ERR_TOKEN_INVALID',
      `verifying certificate ${certificateIdentifier(leaf)} failed: ${reason}`,
    ),
  });
  if (!validAt(leaf, nowMs)) return fail('x509: certificate has expired or is not yet valid');
  const ekus = leaf.keyUsage;
  if (ekus !== undefined && ekus.length > 0 && !ekus.includes(CLIENT_AUTH_EKU) && !ekus.includes(ANY_EKU)) {
    return fail('x509: certificate specifies an incompatible key usage');
  }
  const intermediates = presented.slice(1);
  let current = leaf;
  const used = new Set<X509Certificate>();
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    if (roots.some((r) => validAt(r, nowMs) && (r.raw.equals(current.raw) || issues(r, current))))
      return { ok: true };
    const next = intermediates.find((c) => !used.has(c) && c.ca && validAt(c, nowMs) && issues(c, current));
    if (!next) break;
    used.add(next);
    current = next;
  }
  return fail('x509: certificate signed by unknown authority');
}

function subjectFields(cert: X509Certificate): { cn: string[]; o: string[]; uid: string[] } {
  const out = { cn: [] as string[], o: [] as string[], uid: [] as string[] };
  const name = new px509.X509Certificate(cert.raw).subjectName.toJSON();
  for (const rdn of name) {
    for (const [type, values] of Object.entries(rdn)) {
      if (type === 'CN' || type === '2.5.4.3') out.cn.push(...values);
      else if (type === 'O' || type === '2.5.4.10') out.o.push(...values);
      else if (type === UID_OID || type === 'UID') out.uid.push(...values);
    }
  }
  return out;
}

/**
 * kube's `CommonNameUserConversion` for a certificate that has been verified: user =
 * Subject CN (Go keeps the last CN when there are several), groups = every O in order,
 * uid = the Subject UID attribute (at most one, non-empty; `AllowParsingUserUIDFromCertAuth`,
 * on by default since 1.33), extra credential-id = `X509SHA256=<hex of the leaf DER>`.
 * An empty CN is "not mine" (undefined), as kube answers not-ok without error.
 */
export function userFromCertificate(leaf: X509Certificate): UserInfo | undefined | TokenwardenError {
  let fields;
  try {
    fields = subjectFields(leaf);
  } catch {
    return new TokenwardenError('ERR_TOKEN_INVALID', 'the client certificate subject cannot be parsed');
  }
  const username = fields.cn.at(-1) ?? '';
  if (username === '') return undefined;
  if (fields.uid.length > 1) {
    return new TokenwardenError(
      'ERR_TOKEN_INVALID',
      `expected at most one UID in the certificate subject, found ${fields.uid.length}`,
    );
  }
  if (fields.uid.length === 1 && fields.uid[0] === '') {
    return new TokenwardenError('ERR_TOKEN_INVALID', 'the UID in the certificate subject is empty');
  }
  const credentialId = `X509SHA256=${createHash('sha256').update(leaf.raw).digest('hex')}`;
  return {
    username,
    ...(fields.uid.length === 1 ? { uid: fields.uid[0]! } : {}),
    groups: fields.o,
    extra: { [EXTRA_CREDENTIAL_ID]: [credentialId] },
  };
}

/** The presented chain (leaf first, DER) as certificates; undefined when there is none or it does not parse. */
export function parsePresentedChain(request: AuthnRequest): X509Certificate[] | undefined {
  const ders = request.peerCertificates;
  if (!ders || ders.length === 0) return undefined;
  try {
    return ders.map((d) => new X509Certificate(d));
  } catch {
    return undefined;
  }
}

export interface X509AuthenticatorOptions {
  /** The `--client-ca-file` bundle, read at call time so a reload takes effect at once. */
  readonly roots: () => readonly X509Certificate[];
  readonly clock: Clock;
}

/**
 * kube's certificate-verifying wrapper (`x509.Verifier`): no client certificate → not
 * mine; a chain the bundle does not verify → error (the union goes on, e.g. to the bearer
 * token); a verified one → `then(leaf, request)`.
 */
export function withVerifiedCertificate(
  options: X509AuthenticatorOptions,
  then: (leaf: X509Certificate, request: AuthnRequest) => AuthnResult,
): RequestAuthenticator {
  return {
    authenticateRequest(request): Promise<AuthnResult> {
      const chain = parsePresentedChain(request);
      if (!chain) return Promise.resolve(NO_OPINION);
      const verdict = verifyClientChain(chain, options.roots(), options.clock.now());
      if (!verdict.ok) return Promise.resolve(failure(verdict.error));
      return Promise.resolve(then(chain[0]!, request));
    },
  } satisfies RequestAuthenticator;
}

/** kube's x509 request authenticator: a verified certificate → CN/O identity. Audience-agnostic, as in kube. */
export function x509Authenticator(options: X509AuthenticatorOptions): RequestAuthenticator {
  return withVerifiedCertificate(options, (leaf) => {
    const user = userFromCertificate(leaf);
    if (user === undefined) return NO_OPINION;
    if (user instanceof TokenwardenError) return failure(user);
    return { outcome: 'authenticated', user, audiences: [] };
  });
}
