// The part of a cluster a pod's tokenwarden talks to at start: kube-apiserver's JWKS endpoint, served over HTTPS
// with a certificate from the cluster CA (what the pod finds in kube-root-ca.crt), holding the test signing key.
import { createCertificateAuthority, issueCertificate, type IssuedCert } from '../../src/dev/certs.js';
import { rsaKey } from '../helpers/keys.js';
import { startJwksServer, type JwksServer } from '../keys/jwks-server.js';

export interface ClusterKeys {
  /** kubeadm's one cluster CA: it signs the apiserver's serving and client certificates. */
  readonly ca: IssuedCert;
  /** /openid/v1/jwks with rsaKey()'s public half; records the bearer tokens it was sent. */
  readonly jwks: JwksServer;
}

export async function startClusterKeys(): Promise<ClusterKeys> {
  const ca = await createCertificateAuthority('kubernetes');
  const serving = await issueCertificate(ca, {
    commonName: 'kube-apiserver',
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  const jwks = await startJwksServer({
    tls: { ca: ca.cert, cert: `${serving.cert}${ca.cert}`, key: serving.key, authority: ca },
  });
  jwks.serveKeys([rsaKey()]);
  return { ca, jwks };
}
