import { constants, verify } from 'node:crypto';
import { goQuote } from '../go-quote.js';
import type { Certificate } from './certificate.js';
import { checkChainConstraints } from './name-constraints.js';

/**
 * Go's `x509.Certificate.Verify` (crypto/x509/verify.go, Go 1.26), which kube-apiserver
 * runs on every client certificate with `KeyUsages: [ExtKeyUsageClientAuth]`: chains are
 * built from the leaf through the presented intermediates to a root, every link's
 * signature, validity, CA flag, path length and critical extensions checked as it is
 * added; then each chain's extended key usages (nested along the chain) and name
 * constraints. The error is Go's, word for word, since kube reports it.
 */

export type KeyUsage = 'clientAuth' | 'serverAuth' | 'any';

export type ChainVerdict =
  | { readonly ok: true; readonly chains: readonly (readonly Certificate[])[] }
  | { readonly ok: false; readonly error: string };

const EKU_OID: Record<Exclude<KeyUsage, 'any'>, string> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};
const ANY_EKU = '2.5.29.37.0';
/** Go's maxChainSignatureChecks: a bound on the work one presented chain can cause. */
const MAX_SIGNATURE_CHECKS = 100;
const SIGNATURE_LIMIT = 'x509: signature check attempts limit reached while verifying certificate chain';
const KEY_CERT_SIGN = 1 << 5;

type CertType = 'leaf' | 'intermediate' | 'root';

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;
const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function isValid(
  c: Certificate,
  type: CertType,
  chain: readonly Certificate[],
  now: Date,
): string | undefined {
  if (c.hasUnhandledCriticalExtension) return 'x509: unhandled critical extension';
  const child = chain.at(-1);
  if (child && !equalBytes(child.rawIssuer, c.rawSubject))
    return 'x509: issuer name does not match subject from issuing certificate';
  if (now < c.notBefore)
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(now)} is before ${rfc3339(c.notBefore)}`;
  if (now > c.notAfter)
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(now)} is after ${rfc3339(c.notAfter)}`;
  if (type === 'intermediate' && !(c.basicConstraintsValid && c.isCA))
    return 'x509: certificate is not authorized to sign other certificates';
  if (c.basicConstraintsValid && c.maxPathLen >= 0 && chain.length - 1 > c.maxPathLen)
    return 'x509: too many intermediates for path length constraint';
  return undefined;
}

/** Go's `CheckSignatureFrom`: the parent may sign certificates, and its key verifies the child. */
function checkSignatureFrom(child: Certificate, parent: Certificate): string | undefined {
  if (
    (parent.version === 3 && !parent.basicConstraintsValid) ||
    (parent.basicConstraintsValid && !parent.isCA)
  )
    return 'x509: invalid signature: parent certificate cannot sign this kind of certificate';
  if (parent.keyUsage !== 0 && (parent.keyUsage & KEY_CERT_SIGN) === 0)
    return 'x509: invalid signature: parent certificate cannot sign this kind of certificate';
  const algorithm = child.signatureAlgorithm;
  const unsupported = 'x509: cannot verify signature: algorithm unimplemented';
  if (algorithm.hash === null && algorithm.key !== 'Ed25519') return unsupported;
  if (algorithm.hash === 'md5' || algorithm.hash === 'sha1')
    return `x509: cannot verify signature: insecure algorithm ${algorithm.name}`;
  const key = parent.publicKey;
  if (!key) return unsupported;
  if (algorithm.key !== parent.publicKeyAlgorithm)
    return `x509: signature algorithm specifies an ${algorithm.key} public key, but have public key of type ${goKeyType(parent)}`;
  const data = child.rawTbs;
  const signature = child.signature;
  switch (parent.publicKeyAlgorithm) {
    case 'RSA': {
      const padding = algorithm.pss ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING;
      const saltLength = algorithm.pss ? constants.RSA_PSS_SALTLEN_DIGEST : undefined;
      return safeVerify(algorithm.hash, data, { key, padding, saltLength }, signature)
        ? undefined
        : 'crypto/rsa: verification error';
    }
    case 'ECDSA':
      return safeVerify(algorithm.hash, data, { key, dsaEncoding: 'der' }, signature)
        ? undefined
        : 'x509: ECDSA verification failure';
    default:
      return safeVerify(null, data, key, signature) ? undefined : 'x509: Ed25519 verification failure';
  }
}

function goKeyType(c: Certificate): string {
  return { RSA: '*rsa.PublicKey', ECDSA: '*ecdsa.PublicKey', Ed25519: 'ed25519.PublicKey' }[
    c.publicKeyAlgorithm as 'RSA'
  ];
}

function safeVerify(
  hash: string | null,
  data: Uint8Array,
  key: Parameters<typeof verify>[2],
  signature: Uint8Array,
): boolean {
  try {
    return verify(hash, data, key, signature);
  } catch {
    return false;
  }
}

/** Go's `findPotentialParents`: same subject bytes, key-identifier matches first. */
function potentialParents(pool: readonly Certificate[], c: Certificate): Certificate[] {
  const rank = (p: Certificate): number => {
    if (equalBytes(p.subjectKeyId, c.authorityKeyId)) return 0;
    return (p.subjectKeyId.length === 0) !== (c.authorityKeyId.length === 0) ? 1 : 2;
  };
  return pool
    .filter((p) => equalBytes(p.rawSubject, c.rawIssuer))
    .map((p, i) => ({ p, i, r: rank(p) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.p);
}

/** Go's `alreadyInChain`: same subject, key and SAN extension, so cross-signed loops end. */
function alreadyInChain(candidate: Certificate, chain: readonly Certificate[]): boolean {
  return chain.some((c) => {
    if (!equalBytes(candidate.rawSubject, c.rawSubject) || !equalBytes(candidate.rawSpki, c.rawSpki))
      return false;
    if (!candidate.sanExtension || !c.sanExtension) return !candidate.sanExtension && !c.sanExtension;
    return equalBytes(candidate.sanExtension, c.sanExtension);
  });
}

function unknownAuthority(hint: { error: string; cert: Certificate } | undefined): string {
  const base = 'x509: certificate signed by unknown authority';
  if (!hint) return base;
  const subject = hint.cert.subject;
  const name = subject.commonName || subject.organization[0] || `serial:${hint.cert.serial.toString(10)}`;
  return `${base} (possibly because of ${goQuote(hint.error)} while trying to verify candidate authority certificate ${goQuote(name)})`;
}

interface Pools {
  readonly intermediates: readonly Certificate[];
  readonly roots: readonly Certificate[];
  readonly now: Date;
  sigChecks: number;
}

/** Go's `buildChains`, including which error survives when no chain is found. */
function buildChains(
  c: Certificate,
  chain: readonly Certificate[],
  pools: Pools,
): { chains: Certificate[][]; error?: string } {
  const chains: Certificate[][] = [];
  let error: string | undefined;
  let hint: { error: string; cert: Certificate } | undefined;
  const consider = (type: CertType, candidate: Certificate): void => {
    if (++pools.sigChecks > MAX_SIGNATURE_CHECKS) {
      error = SIGNATURE_LIMIT;
      return;
    }
    if (candidate.publicKeyAlgorithm === 'unknown' || alreadyInChain(candidate, chain)) return;
    const signatureError = checkSignatureFrom(c, candidate);
    if (signatureError !== undefined) {
      hint ??= { error: signatureError, cert: candidate };
      return;
    }
    error = isValid(candidate, type, chain, pools.now);
    if (error !== undefined) {
      hint ??= { error, cert: candidate };
      return;
    }
    if (type === 'root') chains.push([...chain, candidate]);
    else {
      const deeper = buildChains(candidate, [...chain, candidate], pools);
      error = deeper.error;
      chains.push(...deeper.chains);
    }
  };
  outer: for (const [type, pool] of [
    ['root', pools.roots],
    ['intermediate', pools.intermediates],
  ] as const) {
    for (const candidate of potentialParents(pool, c)) {
      consider(type, candidate);
      if (error === SIGNATURE_LIMIT) break outer;
    }
  }
  if (chains.length > 0) return { chains };
  return { chains, error: error ?? unknownAuthority(hint) };
}

/** Go's `checkChainForKeyUsage`: each certificate that lists usages must allow the one asked for (or any). */
function chainAllowsUsage(chain: readonly Certificate[], usage: Exclude<KeyUsage, 'any'>): boolean {
  return chain.every(
    (c) =>
      c.extKeyUsage.length === 0 || c.extKeyUsage.includes(ANY_EKU) || c.extKeyUsage.includes(EKU_OID[usage]),
  );
}

const POLICY_UNSUPPORTED =
  'x509: certificate policy constraints or mappings are not supported (tokenwarden does not run RFC 5280 policy processing)';

/**
 * Verifies `leaf` against `roots` with the `intermediates` a client presented, at `now`.
 * Go refuses SHA-1 and MD5 signatures and ignores key-usage bits except keyCertSign on a
 * signer; so does this.
 */
export function verifyChain(
  leaf: Certificate,
  intermediates: readonly Certificate[],
  roots: readonly Certificate[],
  now: Date,
  usage: KeyUsage,
): ChainVerdict {
  const leafError = isValid(leaf, 'leaf', [], now);
  if (leafError !== undefined) return { ok: false, error: leafError };
  let candidates: Certificate[][];
  if (roots.some((r) => equalBytes(r.raw, leaf.raw))) candidates = [[leaf]];
  else {
    const built = buildChains(leaf, [leaf], { intermediates, roots, now, sigChecks: 0 });
    if (built.error !== undefined) return { ok: false, error: built.error };
    candidates = built.chains;
  }
  let incompatibleUsage = 0;
  let constraintsError: string | undefined;
  let policyRefused = 0;
  const chains = candidates.filter((chain) => {
    // Go's policiesValid can only fail when a certificate below the root carries policy
    // constraints or mappings (no policies are requested); those chains are refused here.
    if (chain.length > 1 && chain.slice(0, -1).some((c) => c.hasPolicyControls)) {
      policyRefused++;
      return false;
    }
    if (usage !== 'any' && !chainAllowsUsage(chain, usage)) {
      incompatibleUsage++;
      return false;
    }
    const nameError = checkChainConstraints(chain);
    if (nameError !== undefined) {
      constraintsError ??= `x509: a root or intermediate certificate is not authorized to sign for this name: ${nameError}`;
      return false;
    }
    return true;
  });
  if (chains.length > 0) return { ok: true, chains };
  if (constraintsError !== undefined) return { ok: false, error: constraintsError };
  if (incompatibleUsage > 0 && policyRefused === 0)
    return { ok: false, error: 'x509: certificate specifies an incompatible key usage' };
  return { ok: false, error: POLICY_UNSUPPORTED };
}
