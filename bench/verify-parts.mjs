// Where an uncached RS256 verification's time and garbage go, in process (bench only):
//   node bench/verify-parts.mjs [--ops 20000]
// Times each part of ServiceAccountAuthenticator.authenticateToken over a bounded loop
// (CPU µs per token, this process's CPU time) and counts the heap bytes each leaves per
// token (young generation made large enough that no collection runs while counting).
// TOKENWARDEN_DIST=/path/to/dist measures another build; compare builds in alternation.
import { verify } from 'node:crypto';
import { importDist } from './lib/dist.mjs';
import { measureParts } from './lib/parts.mjs';
import { saTokens } from './lib/sa-tokens.mjs';

const { decodeBase64url, gateToken, payloadPolicyProblem } = await importDist('authn/jwt/gate.js');
const { withAuthenticatedGroup } = await importDist('authn/group-adder.js');
const { cachedAuthenticator } = await importDist('authn/cached.js');
const { verifyToken } = await importDist('authn/jwt/verify.js');
const { ServiceAccountAuthenticator } = await importDist('authn/serviceaccount/authenticator.js');
const { StaticKeySource } = await importDist('keys/static.js');
const { toVerificationKey } = await importDist('keys/parse.js');
const { systemClock } = await importDist('clock.js');
const { checkAudiences } = await importDist('authn/audiences.js');
const { boundServiceAccount, checkTime, serviceAccountUser, tokenAudiences } = await importDist(
  'authn/serviceaccount/claims.js',
);

const i = process.argv.indexOf('--ops');
const OPS = i > 0 ? Number(process.argv[i + 1]) : 20_000;
const { tokens, publicKey, issuer } = await saTokens(importDist);
const isOurs = (iss) => iss === issuer;
const source = new StaticKeySource('bench', [toVerificationKey(publicKey, 'bench')]);
const sa = new ServiceAccountAuthenticator({
  issuers: new Map([[issuer, source]]),
  legacy: 'reject',
  implicitAudiences: [issuer],
  clock: systemClock,
});
const gated = tokens.map((t) => gateToken(t, isOurs).token);
const data = gated.map((g) => Buffer.from(g.signingInput, 'latin1'));
if ((await sa.authenticateToken(tokens[0], [issuer])).outcome !== 'authenticated')
  throw new Error('a valid token was refused');

// The gate's parts, each alone on inputs prepared ahead.
const segments = tokens.map((t) => t.split('.'));
const texts = segments.map(([, p]) => Buffer.from(p, 'base64url').toString('utf8'));
// Every lookup misses (1,000 tokens cycled through a cache of one), so each pays the insert.
const adder = withAuthenticatedGroup(sa);
const chain = cachedAuthenticator(adder, {
  ttlMs: 600_000,
  negativeTtlMs: 10_000,
  max: 1,
  clock: systemClock,
});

const parts = {
  'crypto.verify (bare)': (n) => verify('sha256', data[n], publicKey, gated[n].signature),
  '  split at the dots': (n) => tokens[n].split('.'),
  '  base64url payload + signature': (n) =>
    decodeBase64url(segments[n][1]) && decodeBase64url(segments[n][2]),
  '  JSON.parse (payload)': (n) => JSON.parse(texts[n]),
  '  strict payload checks': (n) => payloadPolicyProblem(segments[n][1], texts[n], gated[n].untrustedClaims),
  gateToken: (n) => gateToken(tokens[n], isOurs),
  '  key lookup (kid)': (n) => source.snapshot().byKid.get(gated[n].kid),
  verifyToken: (n) => verifyToken(source, gated[n]),
  'claims → user': (n) => sa.validateVerified(tokens[n], gated[n], false, [issuer]),
  '  claim checks (aud, exp, nbf, iat)': (n) =>
    checkAudiences(tokenAudiences(gated[n].untrustedClaims), [issuer], [issuer]).ok &&
    checkTime(gated[n].untrustedClaims, systemClock.now()),
  '  UserInfo from kubernetes.io claims': (n) =>
    serviceAccountUser(boundServiceAccount(gated[n].untrustedClaims)),
  authenticateToken: (n) => sa.authenticateToken(tokens[n], [issuer]),
  '+ group adder': (n) => adder.authenticateToken(tokens[n], [issuer]),
  '+ group adder, cache miss + insert': (n) => chain.authenticateToken(tokens[n], [issuer]),
};

const rows = await measureParts(parts, { ops: OPS, countingOps: 4000, warmUp: 2000, pool: 1000 });
const bare = rows.find((r) => r.name === 'crypto.verify (bare)').us;
console.log('part                                CPU µs/token  heap B/token');
for (const { name, us, bytes } of rows)
  console.log(
    `${name.padEnd(34)} ${us.toFixed(2).padStart(9)} ${String(Math.round(bytes)).padStart(13)}` +
      (name === 'authenticateToken' ? `  (${((100 * bare) / us).toFixed(0)} % of bare)` : ''),
  );
