// A cached TokenReview through createApp's handler, in process (bench only): no TLS, no
// sockets, no load generator, so it is far less sensitive to other processes than wrk and
// shows what the app itself costs per answer. The real chain (service-account
// authenticator, group adder, cache), the default access log (pino, asynchronous, to
// /dev/null) and metrics are on. The body arrives through a stand-in for Node's
// IncomingMessage, the way @hono/node-server hands it to the app.
//   taskset -c 1 node bench/handler.bench.mjs [--seconds 3] [--rounds 5]
// TOKENWARDEN_DIST=/path/dist measures another build; BENCH_ALT_DIST='label=/path/dist'
// measures a second build in the same process run, rounds interleaved.
import { generateKeyPairSync } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { distDir } from './lib/dist.mjs';
import { build, incoming, outgoing } from './lib/handler-app.mjs';
import { getRequestListener } from '@hono/node-server';

// Installs @hono/node-server's lightweight Request and Response, as the served app has them.
getRequestListener(() => new Response(null));

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '2' }, rounds: { type: 'string', default: '5' } },
});

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' });
const publicPem = publicKey.export({ type: 'spki', format: 'pem' });

const builds = [['tokenwarden', distDir]];
for (const spec of (process.env.BENCH_ALT_DIST ?? '').split(',').filter(Boolean)) {
  const [label, dir] = spec.split('=');
  builds.push([label, resolve(dir)]);
}
const subjects = [];
for (const [label, dir] of builds) {
  const { app, tokens } = (await build(dir)).make(privatePem, publicPem);
  const bodies = tokens.map((t) =>
    Buffer.from(
      JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: t } }),
    ),
  );
  // One Request per path, reused: the app reads only its method and URL, and the body from `incoming`.
  const request = new Request('https://127.0.0.1/apis/authentication.k8s.io/v1/tokenreviews', {
    method: 'POST',
  });
  const review = async (i) => {
    const res = await app.fetch(request, { incoming: incoming(bodies[i % bodies.length]), outgoing });
    return res;
  };
  for (let i = 0; i < bodies.length; i++) {
    const text = await (await review(i)).text();
    if (!text.includes('"authenticated":true')) throw new Error(`${label}: not authenticated: ${text}`);
  }
  subjects.push({ label, review });
}

const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const results = new Map(subjects.map((s) => [s.label, []]));
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? subjects : [...subjects].reverse();
  for (const s of order) {
    const cpu0 = process.cpuUsage();
    const end = performance.now() + seconds * 1000;
    let n = 0;
    while (performance.now() < end) {
      // 50 in flight, as the HTTP bench's connections.
      const batch = [];
      for (let j = 0; j < 50; j++) batch.push(s.review(n + j));
      await Promise.all(batch);
      n += 50;
    }
    const cpu = process.cpuUsage(cpu0);
    results.get(s.label).push((cpu.user + cpu.system) / n);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [label, us] of results) {
  console.log(
    `${label.padEnd(14)} ${median(us).toFixed(2)} µs CPU per cached answer (rounds: ${us.map((u) => u.toFixed(1)).join(', ')})`,
  );
}
