// A cached TokenReview through the listener createListener builds, in process (bench only): no TLS, no
// sockets, no load generator, so it is far less sensitive to other processes than wrk and
// shows what the app itself costs per answer. The real chain (service-account
// authenticator, group adder, cache), the default access log (pino, asynchronous, to
// /dev/null) and metrics are on. The body arrives through a stand-in for Node's
// IncomingMessage, the way Node's server hands it to the listener.
//   taskset -c 1 node bench/handler.bench.mjs [--seconds 3] [--rounds 5]
// TOKENWARDEN_DIST=/path/dist measures another build; BENCH_ALT_DIST='label=/path/dist'
// measures a second build in the same process run, rounds interleaved.
import { distDir } from './lib/dist.mjs';
import { build, cpuPerAnswer, handlerBenchSetup, median, tokenReviews } from './lib/handler-app.mjs';

const { values, privatePem, publicPem, builds } = handlerBenchSetup(distDir);
const subjects = [];
for (const [label, dir] of builds) {
  const { listener, tokens } = (await build(dir)).make(privatePem, publicPem);
  const review = tokenReviews(listener, tokens);
  for (let i = 0; i < tokens.length; i++) {
    const { text } = await review(i);
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
