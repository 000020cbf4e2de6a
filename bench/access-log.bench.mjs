// One TokenReview access line, in process (bench only): the CPU it costs from the call to
// the batched write on stdout, with the default logger (`createLogger('info')`: redaction,
// the asynchronous batched destination). Run with stdout on /dev/null; results go to stderr.
//   taskset -c 1 node bench/access-log.bench.mjs [--seconds 2] [--rounds 7] > /dev/null
// Each build given (TOKENWARDEN_DIST, plus BENCH_ALT_DIST='label=/path/dist,…') writes the line
// its way: through `ReviewAccessLog` where the build has one, else through pino's
// `logger.child({ route }).info(fields, 'tokenreview')` as the review route did. Rounds
// alternate between builds; the event loop turns every 50 lines so the writes complete.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { distDir } from './lib/dist.mjs';
import { handlerBenchSetup, median } from './lib/handler-app.mjs';

const { values, builds } = handlerBenchSetup(distDir);
const load = (dir, rel) => import(pathToFileURL(resolve(dir, rel)).href);

const user = 'system:serviceaccount:ns1:app';
const reqId = 'a8f3c1d2-e4b5-4a6c-8d8e-9f0a1b2c3d4e';
const subjects = [];
for (const [label, dir] of builds) {
  const { createLogger } = await load(dir, 'observe/log.js');
  const logger = createLogger('info');
  let access;
  try {
    access = await load(dir, 'observe/access-log.js');
  } catch {
    access = undefined;
  }
  const line = access
    ? (
        (log) => (ms) =>
          log.token(reqId, '127.0.0.1', 'authenticated', 'ok', user, ms)
      )(new access.ReviewAccessLog(logger, 'tokenreviews/v1', 'tokenreview'))
    : (
        (log) => (ms) =>
          log.info(
            { reqId, caller: '127.0.0.1', decision: 'authenticated', reason: 'ok', user, ms },
            'tokenreview',
          )
      )(logger.child({ route: 'tokenreviews/v1' }));
  subjects.push({ label: `${label} (${access ? 'access-log' : 'pino'})`, line });
}

const results = new Map(subjects.map((s) => [s.label, []]));
for (let r = 0; r < Number(values.rounds); r++) {
  for (const s of r % 2 === 0 ? subjects : [...subjects].reverse()) {
    const cpu0 = process.cpuUsage();
    const end = performance.now() + Number(values.seconds) * 1000;
    let n = 0;
    while (performance.now() < end) {
      for (let j = 0; j < 50; j++) s.line(0.05 + (n + j) * 1e-7);
      n += 50;
      await new Promise((turned) => setImmediate(turned));
    }
    const cpu = process.cpuUsage(cpu0);
    results.get(s.label).push((cpu.user + cpu.system) / n);
  }
}
for (const [label, us] of results) {
  process.stderr.write(
    `${label.padEnd(36)} ${median(us).toFixed(2)} µs CPU per access line (rounds: ${us.map((u) => u.toFixed(2)).join(', ')})\n`,
  );
}
