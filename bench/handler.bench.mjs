// A cached TokenReview through createApp's handler, in process (bench only): no TLS, no
// sockets, no load generator, so it is far less sensitive to other processes than wrk and
// shows what the app itself costs per answer. The real chain (service-account
// authenticator, group adder, cache), the default access log (pino, asynchronous, to
// /dev/null) and metrics are on. The body arrives through a stand-in for Node's
// IncomingMessage, the way @hono/node-server hands it to the app.
//   taskset -c 1 node bench/handler.bench.mjs [--seconds 3] [--rounds 5]
// TOKENWARDEN_DIST=/path/dist measures another build; BENCH_ALT_DIST='label=/path/dist'
// measures a second build in the same process run, rounds interleaved.
import { distDir } from './lib/dist.mjs';
import { build, cpuPerAnswer, handlerBenchSetup, incoming, median, outgoing } from './lib/handler-app.mjs';
import { getRequestListener } from '@hono/node-server';

// Installs @hono/node-server's lightweight Request and Response, as the served app has them.
getRequestListener(() => new Response(null));

const { values, privatePem, publicPem, builds } = handlerBenchSetup(distDir);
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

const results = await cpuPerAnswer(subjects, {
  seconds: Number(values.seconds),
  rounds: Number(values.rounds),
});
for (const [label, us] of results) {
  console.log(
    `${label.padEnd(14)} ${median(us).toFixed(2)} µs CPU per cached answer (rounds: ${us.map((u) => u.toFixed(1)).join(', ')})`,
  );
}
