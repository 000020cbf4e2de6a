// Mints `count` distinct bound service-account tokens in a worker thread (bench setup,
// outside any timing). Claims as the dev issuer's mintToken, with varied subjects.
import { createPrivateKey, randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { importDist } from './dist.mjs';

const { signJwt } = await importDist('dev/sign.js');

const { pem, alg, kid, issuer, count, start, exp } = workerData;
const privateKey = createPrivateKey(pem);
const iat = exp - 86_400;
const out = new Array(count);
for (let j = 0; j < count; j++) {
  const i = start + j;
  const namespace = `team-${i % 97}`;
  const name = `sa-${i % 1009}`;
  out[j] = signJwt(
    { alg, kid },
    {
      aud: [issuer],
      exp,
      iat,
      nbf: iat,
      iss: issuer,
      jti: randomUUID(),
      sub: `system:serviceaccount:${namespace}:${name}`,
      'kubernetes.io': {
        namespace,
        serviceaccount: { name, uid: `00000000-0000-4000-8000-${String(i % 1009).padStart(12, '0')}` },
        pod: { name: `${name}-${i.toString(36)}`, uid: randomUUID() },
      },
    },
    privateKey,
  );
}
parentPort.postMessage(out.join('\n'));
