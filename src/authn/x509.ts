import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { TokenwardenError } from '../errors.js';
import { EXTRA_CREDENTIAL_ID, type UserInfo } from '../user.js';
import { CertificateParseError, parseCertificate, type Certificate } from '../x509/certificate.js';
import { verifyChain, type ChainVerdict } from '../x509/verify-chain.js';
import {
  failure,
  NO_OPINION,
  type AuthnRequest,
  type AuthnResult,
  type RequestAuthenticator,
} from './authenticator.js';

const UID_OID = '0.9.2342.19200300.100.1.1';

/** A PEM bundle → certificates, each read as Go reads it; throws naming `origin` when a block is not one. */
export function parseCertificateBundle(pem: string, origin: string): Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const certs = blocks.map((block, i) => {
    const body = block.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
    try {
      return parseCertificate(Buffer.from(body, 'base64'));
    } catch (err) {
      const reason = err instanceof CertificateParseError ? `: ${err.message}` : '';
      throw new TokenwardenError(
        'ERR_CONFIG_INVALID',
        `${origin}: PEM block ${i + 1} is not a valid certificate${reason}`,
      );
    }
  });
  if (certs.length === 0)
    throw new TokenwardenError('ERR_CONFIG_INVALID', `${origin}: no certificates found`);
  return certs;
}

const colonHex = (bytes: Uint8Array): string =>
  Buffer.from(bytes).toString('hex').toUpperCase().match(/../g)?.join(':') ?? '';

/**
 * kube's `certificateIdentifier`: `SN=<decimal>, SKID=<AA:BB:..>, AKID=<AA:BB:..>`, the
 * prefix of every verification error, so an operator can find the certificate.
 */
export function certificateIdentifier(cert: Certificate): string {
  return `SN=${cert.serial.toString(10)}, SKID=${colonHex(cert.subjectKeyId)}, AKID=${colonHex(cert.authorityKeyId)}`;
}

/**
 * The client's chain (leaf first) verified as kube-apiserver verifies it: Go's
 * `Certificate.Verify` with the bundle as roots, the rest of the chain as intermediates
 * and `ExtKeyUsageClientAuth`. The error is Go's text.
 */
export function verifyClientChain(
  presented: readonly Certificate[],
  roots: readonly Certificate[],
  nowMs: number,
): ChainVerdict {
  const [leaf, ...intermediates] = presented;
  if (!leaf) return { ok: false, error: 'no client certificate' };
  return verifyChain(leaf, intermediates, roots, new Date(nowMs), 'clientAuth');
}

/**
 * kube's `CommonNameUserConversion` for a certificate that has been verified: user =
 * Subject CN (Go keeps the last CN when there are several), groups = every O in order,
 * uid = the Subject UID attribute (at most one, non-empty; `AllowParsingUserUIDFromCertAuth`,
 * on by default since 1.33), extra credential-id = `X509SHA256=<hex of the leaf DER>`.
 * An empty CN is "not mine" (undefined), as kube answers not-ok without error.
 */
export function userFromCertificate(leaf: Certificate): UserInfo | undefined | TokenwardenError {
  const username = leaf.subject.commonName;
  if (username === '') return undefined;
  const uids = leaf.subject.attributes.filter((a) => a.type === UID_OID).map((a) => a.value);
  if (uids.length > 1) {
    return new TokenwardenError(
      'ERR_TOKEN_INVALID',
      `expected at most one UID in the certificate subject, found ${uids.length}`,
    );
  }
  if (uids.length === 1 && uids[0] === '') {
    return new TokenwardenError('ERR_TOKEN_INVALID', 'the UID in the certificate subject is empty');
  }
  const credentialId = `X509SHA256=${createHash('sha256').update(leaf.raw).digest('hex')}`;
  return {
    username,
    ...(uids.length === 1 ? { uid: uids[0]! } : {}),
    groups: [...leaf.subject.organization],
    extra: { [EXTRA_CREDENTIAL_ID]: [credentialId] },
  };
}

/**
 * The presented chain (leaf first, DER) as certificates: undefined when there is none;
 * an error when one does not parse (Go's TLS stack refuses the handshake then).
 */
export function parsePresentedChain(request: AuthnRequest): Certificate[] | undefined | TokenwardenError {
  const ders = request.peerCertificates;
  if (!ders || ders.length === 0) return undefined;
  try {
    return ders.map((d) => parseCertificate(d));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return new TokenwardenError(
      'ERR_TOKEN_INVALID',
      `the client certificate chain cannot be parsed: ${reason}`,
    );
  }
}

export interface X509AuthenticatorOptions {
  /** The `--client-ca-file` bundle, read at call time so a reload takes effect at once. */
  readonly roots: () => readonly Certificate[];
  readonly clock: Clock;
}

/**
 * kube's certificate-verifying wrapper: no client certificate (or an empty bundle) → not
 * mine; a chain the bundle does not verify → error (the union goes on, e.g. to the bearer
 * token); a verified one → `then(leaf, request)`. kube's x509 authenticator names the leaf
 * in its error (`verifying certificate SN=… failed: …`); its request-header `Verifier`
 * returns Go's error as is, hence `describe`.
 */
export function withVerifiedCertificate(
  options: X509AuthenticatorOptions,
  then: (leaf: Certificate, request: AuthnRequest) => AuthnResult,
  describe: (leaf: Certificate, error: string) => string = (_leaf, error) => error,
): RequestAuthenticator {
  return {
    authenticateRequest(request): Promise<AuthnResult> {
      const chain = parsePresentedChain(request);
      const roots = options.roots();
      if (!chain || roots.length === 0) return Promise.resolve(NO_OPINION);
      if (chain instanceof TokenwardenError) return Promise.resolve(failure(chain));
      const verdict = verifyClientChain(chain, roots, options.clock.now());
      if (!verdict.ok)
        return Promise.resolve(
          failure(new TokenwardenError('ERR_TOKEN_INVALID', describe(chain[0]!, verdict.error))),
        );
      return Promise.resolve(then(chain[0]!, request));
    },
  } satisfies RequestAuthenticator;
}

/** kube's x509 request authenticator: a verified certificate → CN/O identity. Audience-agnostic, as in kube. */
export function x509Authenticator(options: X509AuthenticatorOptions): RequestAuthenticator {
  return withVerifiedCertificate(
    options,
    (leaf) => {
      const user = userFromCertificate(leaf);
      if (user === undefined) return NO_OPINION;
      if (user instanceof TokenwardenError) return failure(user);
      return { outcome: 'authenticated', user, audiences: [] };
    },
    (leaf, error) => `verifying certificate ${certificateIdentifier(leaf)} failed: ${error}`,
  );
}
