// Where a SubjectAccessReview's time and garbage go, in process (bench only):
//   node bench/sar-parts.mjs [--ops 50000] [--bindings 10000]
// The policy of bench/sar-http.mjs (100 Roles, 10,000 RoleBindings) loaded by the same
// composition as `serve`; each part of the review route timed over a bounded loop (CPU µs
// per review, this process's CPU time) and its heap bytes per review counted in a child
// whose young generation is too large to collect while counting. TOKENWARDEN_DIST measures
// another build; compare builds in alternation.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importDist } from './lib/dist.mjs';
import { measureParts } from './lib/parts.mjs';
import { sarPolicy, sarBody } from './lib/sar.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const OPS = arg('ops', 50_000);
const BINDINGS = arg('bindings', 10_000);

const { decodeAccessReview, encodeSubjectAccessReview } = await importDist('api/subjectaccessreview.js');
const { loadAuthorizationOptions, buildAuthorization } = await importDist('compose/authorization.js');
const { nestedDeeperThan } = await importDist('http/json-depth.js');
const { reviewAccess } = await importDist('review/access.js');
const { systemClock } = await importDist('clock.js');

const dir = mkdtempSync(join(tmpdir(), 'tokenwarden-sar-parts-'));
let authorization;
try {
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, sarPolicy(BINDINGS));
  authorization = buildAuthorization(
    await loadAuthorizationOptions({ policyFiles: [file] }, { clock: systemClock }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const { authorizer } = authorization;
const bodies = [
  sarBody('system:serviceaccount:ns42:sa-4242', 'get'),
  sarBody('system:serviceaccount:ns42:sa-4242', 'delete'),
];
const request = { kind: 'SubjectAccessReview', version: 'v1' };
const parsed = bodies.map((b) => JSON.parse(b));
const decoded = parsed.map((p) => decodeAccessReview(p, request).input);
const results = await Promise.all(decoded.map((d) => reviewAccess(authorizer, d.attributes)));
if (results[0].decision !== 'allow' || results[1].decision === 'allow')
  throw new Error('unexpected decisions');
const encode = (n) => encodeSubjectAccessReview(decoded[n], results[n], 'v1');
const encoded = [encode(0), encode(1)];

const parts = {
  'nestedDeeperThan + JSON.parse': (n) => !nestedDeeperThan(bodies[n]) && JSON.parse(bodies[n]),
  decodeAccessReview: (n) => decodeAccessReview(parsed[n], request),
  'authorize (union, RBAC)': (n) => authorizer.authorize(decoded[n].attributes),
  encodeSubjectAccessReview: encode,
  'JSON.stringify of the answer': (n) => JSON.stringify(encoded[n]),
  'all of the above': async (n) => {
    if (nestedDeeperThan(bodies[n])) throw new Error('deep');
    const d = decodeAccessReview(JSON.parse(bodies[n]), request);
    const r = await reviewAccess(authorizer, d.input.attributes);
    return JSON.stringify(encodeSubjectAccessReview(d.input, r, 'v1'));
  },
};

const rows = await measureParts(parts, { ops: OPS, countingOps: 10_000, warmUp: 5000, pool: 2 });
authorization.close();
console.log('part                            CPU µs/review  heap B/review');
for (const { name, us, bytes } of rows)
  console.log(`${name.padEnd(30)} ${us.toFixed(2).padStart(10)} ${String(Math.round(bytes)).padStart(14)}`);
