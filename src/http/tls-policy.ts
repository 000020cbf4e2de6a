import type { SecureVersion } from 'node:tls';

/** kube-apiserver's --tls-min-version values (`TLSVersion` in k8s.io/component-base/cli/flag/ciphersuites_flag.go). */
const VERSIONS: Readonly<Record<string, SecureVersion>> = {
  VersionTLS10: 'TLSv1',
  VersionTLS11: 'TLSv1.1',
  VersionTLS12: 'TLSv1.2',
  VersionTLS13: 'TLSv1.3',
};

/**
 * Go's cipher suite names, as k8s.io/component-base/cli/flag/ciphersuites_flag.go accepts them
 * (tls.CipherSuites() and tls.InsecureCipherSuites()), to OpenSSL's names. Suites Node.js's
 * OpenSSL no longer builds (RC4) are left out, so naming one is refused rather than ignored.
 */
const CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 'ECDHE-RSA-DES-CBC3-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  // Go's older names of the two ChaCha20 suites, still accepted by kube.
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  // TLS 1.3: accepted by name as Go does; Go cannot turn them off and neither does this.
  TLS_AES_128_GCM_SHA256: 'TLS_AES_128_GCM_SHA256',
  TLS_AES_256_GCM_SHA384: 'TLS_AES_256_GCM_SHA384',
  TLS_CHACHA20_POLY1305_SHA256: 'TLS_CHACHA20_POLY1305_SHA256',
};

const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

export interface TlsPolicy {
  readonly minVersion: SecureVersion;
  /** OpenSSL cipher string; undefined keeps Node.js's default list. */
  readonly ciphers?: string;
}

/** The node:tls settings for kube-apiserver's --tls-min-version and --tls-cipher-suites; undefined for a name it does not know. */
export function tlsMinVersion(name: string): SecureVersion | undefined {
  return Object.hasOwn(VERSIONS, name) ? VERSIONS[name] : undefined;
}

/**
 * OpenSSL's cipher string for Go's suite names, or the first unknown name. TLS 1.3 suites are
 * always appended: OpenSSL would otherwise disable TLS 1.3 when none is named, and Go keeps them.
 */
export function opensslCiphers(names: readonly string[]): { ciphers: string } | { unknown: string } {
  const out: string[] = [];
  for (const name of names) {
    if (!Object.hasOwn(CIPHER_SUITES, name)) return { unknown: name };
    out.push(CIPHER_SUITES[name]!);
  }
  for (const s of TLS13_SUITES) if (!out.includes(s)) out.push(s);
  return { ciphers: out.join(':') };
}
