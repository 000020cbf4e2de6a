// Verify one token in-process, as a TokenReview would answer it.
//   KEY_FILE=/path/sa.pub TOKEN_FILE=/path/token node examples/verify.mjs
import { readFileSync } from 'node:fs';
import { createTokenVerifier } from 'tokenwarden';

const verifier = createTokenVerifier({
  issuers: [process.env.ISSUER ?? 'https://kubernetes.default.svc.cluster.local'],
  keyFiles: [process.env.KEY_FILE ?? '/etc/tokenwarden/sa.pub'],
});
const status = await verifier.review(readFileSync(process.env.TOKEN_FILE ?? 'token', 'utf8').trim());
console.log(JSON.stringify(status.authenticated ? { user: status.user.username } : { error: status.error }));
verifier.close();
