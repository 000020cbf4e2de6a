// The first requests of a fresh process, cold and after serve's warm-up (bench only):
//   node bench/warm-up.bench.mjs [--runs 3] [--requests 20000]
// Each run is a fresh `node` child: it builds the listener as bench/handler.bench.mjs does,
// then (warm runs) calls warmUp as `serve` does before it listens, serves the app over
// HTTPS on 127.0.0.1 and sends it the first N TokenReviews itself over 4 keep-alive
// connections, timing the process's CPU per band of requests (client included, the same
// in both; 1,000 tokens cycled: the first 1,000 verify, the rest are cache hits). Cold
// and warm children alternate; the medians per band of requests are printed.
// TOKENWARDEN_DIST=/path/dist measures another build.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { parseArgs } from 'node:util';
import { distDir, importDist } from './lib/dist.mjs';
import { Agent } from 'node:https';
import { build } from './lib/handler-app.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    requests: { type: 'string', default: '20000' },
    child: { type: 'string' },
  },
});
const N = Number(values.requests);
const BANDS = [
  [0, 100],
  [100, 1_000],
  [1_000, 5_000],
  [5_000, N],
];

if (values.child) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { listener, tokens, keySource } = (await build(distDir)).make(
    privateKey.export({ type: 'pkcs8', format: 'pem' }),
    publicKey.export({ type: 'spki', format: 'pem' }),
  );
  if (values.child === 'warm') {
    const { warmUp } = await importDist('compose/warm-up.js');
    const { ephemeralTls } = await importDist('compose/run.js');
    const { systemClock } = await importDist('clock.js');
    await warmUp({
      requests: 1_000,
      tls: await ephemeralTls(),
      keySources: [keySource],
      maxRequestBytes: 1 << 20,
      logLevel: 'info',
      clock: systemClock,
    });
  }
  // Served as `serve` serves it: the real listener over HTTPS, requests from 4 keep-alive connections.
  const { startServer } = await importDist('http/server.js');
  const { postTokenReview } = await importDist('compose/warm-up.js');
  const { ephemeralTls } = await importDist('compose/run.js');
  const pino = (await import('pino')).default;
  const server = await startServer({
    listener: { request: listener },
    host: '127.0.0.1',
    port: 0,
    tls: await ephemeralTls(),
    logger: pino({ level: 'silent' }),
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: false });
  const review = async (token) => {
    if (!(await postTokenReview(agent, server.port, token))) throw new Error('a valid token was refused');
  };
  // CPU time per band, not wall time: on a shared machine the wall clock counts other processes too.
  const means = [];
  let next = 0;
  for (const [start, end] of BANDS) {
    const cpu0 = process.cpuUsage();
    const lane = async () => {
      while (next < end) await review(tokens[next++ % tokens.length]);
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    const cpu = process.cpuUsage(cpu0);
    means.push((cpu.user + cpu.system) / (end - start));
  }
  agent.destroy();
  await server.close(1000);
  console.log(JSON.stringify(means));
  process.exit(0);
}

const samples = { cold: [], warm: [] };
for (let r = 0; r < Number(values.runs); r++) {
  for (const kind of r % 2 ? ['warm', 'cold'] : ['cold', 'warm']) {
    const out = execFileSync(process.execPath, [process.argv[1], '--child', kind, '--requests', String(N)], {
      encoding: 'utf8',
    });
    samples[kind].push(JSON.parse(out));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`CPU µs per request, median of ${values.runs} fresh processes each`);
console.log(`requests       ${BANDS.map(([a, b]) => `${a + 1}–${b}`.padStart(12)).join('')}`);
for (const kind of ['cold', 'warm'])
  console.log(
    `${kind.padEnd(14)} ${BANDS.map((_, i) =>
      median(samples[kind].map((s) => s[i]))
        .toFixed(1)
        .padStart(12),
    ).join('')}`,
  );
