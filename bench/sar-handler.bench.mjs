// A SubjectAccessReview through the listener createListener builds, in process (bench only): the policy of
// bench/sar-http.mjs (10,000 RoleBindings) composed as `serve` composes it, the default
// access log (pino, asynchronous, to /dev/null) and metrics, 50 reviews in flight, an
// allowed and a not-allowed review in turn; no TLS, sockets or load generator, so it shows
// what the app costs per answer far more steadily than wrk on a shared machine.
//   taskset -c 1 node bench/sar-handler.bench.mjs [--seconds 2] [--rounds 5]
// BENCH_ALT_DIST='label=/path/dist' adds a second build in the same run, rounds interleaved.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distDir } from './lib/dist.mjs';
import { build, cpuPerAnswer, handlerBenchSetup, median, post } from './lib/handler-app.mjs';
import { sarBody, sarPolicy } from './lib/sar.mjs';

const { values, privatePem, publicPem, builds } = handlerBenchSetup(distDir);
const bodies = [
  sarBody('system:serviceaccount:ns42:sa-4242', 'get'),
  sarBody('system:serviceaccount:ns42:sa-4242', 'delete'),
].map((b) => Buffer.from(b));
const expected = ['"allowed":true', '"allowed":false'];
const dir = mkdtempSync(join(tmpdir(), 'tokenwarden-sar-handler-'));
const policyFile = join(dir, 'policy.yaml');
writeFileSync(policyFile, sarPolicy(10_000));
const subjects = [];
const closers = [];
try {
  for (const [label, distPath] of builds) {
    const built = await build(distPath);
    const { loadAuthorizationOptions, buildAuthorization } = await built.load('compose/authorization.js');
    const { systemClock } = await built.load('clock.js');
    const authorization = buildAuthorization(
      await loadAuthorizationOptions({ policyFiles: [policyFile] }, { clock: systemClock }),
    );
    closers.push(() => authorization.close());
    const { listener } = built.make(privatePem, publicPem, { authorizer: authorization.authorizer });
    const review = (i) => post(listener, '/apis/authorization.k8s.io/v1/subjectaccessreviews', bodies[i & 1]);
    for (let i = 0; i < 2; i++) {
      const { text } = await review(i);
      if (!text.includes(expected[i])) throw new Error(`${label}: unexpected answer ${text}`);
    }
    subjects.push({ label, review });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const results = await cpuPerAnswer(subjects, {
  seconds: Number(values.seconds),
  rounds: Number(values.rounds),
});
for (const close of closers) close();
for (const [label, us] of results) {
  console.log(
    `${label.padEnd(14)} ${median(us).toFixed(2)} µs CPU per SubjectAccessReview (rounds: ${us.map((u) => u.toFixed(1)).join(', ')})`,
  );
}
