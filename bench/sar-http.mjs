// SubjectAccessReview over HTTPS (bench only): `tokenwarden serve` with a policy of
// 10,000 RoleBindings, pinned to CPU 1, and wrk pinned to CPU 0 (50 connections,
// keep-alive) asking one allowed and one not-allowed review in turn. Counts only
// answers with the expected `allowed`, and prints requests per second, latency and the
// server's CPU µs per answer (/proc; far less disturbed by other processes than the rate).
// The target is a ratio to the hono ceiling's cached TokenReview rate, so the ceiling runs
// beside it on the same core, in alternating slices (A B, B A, …), each after 1 s of its
// own load that is not kept: the ratio of each round is of two slices next to each other.
// --profile runs the server under `node --cpu-prof` and prints where its time went.
// --distinct N asks each of the two reviews about N pods by name, in turn (with N in the
// thousands, no body comes again while the server still remembers it): the cost of a review
// never seen before, where the default asks the same two bodies again and again.
//   node bench/sar-http.mjs [--seconds 4] [--rounds 3] [--bindings 10000] [--distinct N] [--profile]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distFile } from './lib/dist.mjs';
import { summarize } from './lib/cpuprofile.mjs';
import {
  IMAGE_NODE_FLAGS,
  freePort,
  processCpuSeconds,
  sleep,
  startServer,
  SERVER_CPU,
} from './lib/servers.mjs';
import { sarBody, sarPolicy } from './lib/sar.mjs';
import { prepare } from './lib/setup.mjs';
import { LOAD_CPU, runWrk } from './lib/wrk.mjs';
import { median } from './lib/median.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const seconds = Number(arg('seconds', '4'));
const rounds = Math.max(1, Number(arg('rounds', '3')));
const bindings = Number(arg('bindings', '10000'));
const profile = process.argv.includes('--profile');
const distinct = Number(arg('distinct', '0'));
const PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

const dir = mkdtempSync(join(tmpdir(), 'tokenwarden-sar-bench-'));

const allowed = sarBody('system:serviceaccount:ns42:sa-4242', 'get');
const refused = sarBody('system:serviceaccount:ns42:sa-4242', 'delete');

function post(port, ca, body) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: PATH,
        method: 'POST',
        ca,
        servername: 'localhost',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// Both kinds are asked in turn; with 50 connections answers come back in any order, so
// each is counted by what it says. Correctness of each kind is checked before timing.
// With --distinct, each body names a pod (the Role allows any), as a Lua format.
const named = (body) => body.replace('"version":"v1"}', '"version":"v1","name":"pod-%d"}');
const lua = `
local bodies = { ${JSON.stringify(distinct > 0 ? named(allowed) : allowed)}, ${JSON.stringify(distinct > 0 ? named(refused) : refused)} }
local distinct = ${distinct}
local i = 0
yes, no, bad = 0, 0, 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function request()
  i = i + 1
  local body = bodies[(i % 2) + 1]
  if distinct > 0 then body = string.format(body, math.floor(i / 2) % distinct) end
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1
  elseif string.find(body, '"allowed":true', 1, true) then yes = yes + 1
  elseif string.find(body, '"allowed":false', 1, true) then no = no + 1
  else bad = bad + 1 end
end
function done(summary, latency, requests)
  local y, n, b = 0, 0, 0
  for _, t in ipairs(threads) do y = y + t:get("yes"); n = n + t:get("no"); b = b + t:get("bad") end
  io.write(string.format("JSON {\\"yes\\":%d,\\"no\\":%d,\\"bad\\":%d,\\"seconds\\":%f,\\"p50\\":%f,\\"p99\\":%f}\\n", y, n, b, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
`;

let server;
let ceiling;
let loadStartUs;
try {
  // The TokenReview bench's set-up: its certificate serves both servers, its pool the ceiling.
  const setup = await prepare({
    workDir: join(dir, 'tokenreview'),
    uncachedCount: 0,
    cacheTtlMs: 600_000,
    log: () => {},
  });
  const ca = readFileSync(setup.caFile);
  const files = { policy: join(dir, 'policy.yaml'), script: join(dir, 'sar.lua') };
  writeFileSync(files.policy, sarPolicy(bindings));
  writeFileSync(files.script, lua);
  const port = await freePort();
  const log = openSync('/dev/null', 'w');
  const profDir = join(dir, 'prof');
  if (profile) mkdirSync(profDir);
  server = spawn(
    'taskset',
    [
      '-c',
      SERVER_CPU,
      process.execPath,
      ...IMAGE_NODE_FLAGS,
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
      distFile('cli/main.js'),
      'serve',
      '--tls-cert-file',
      setup.certFile,
      '--tls-private-key-file',
      setup.keyFile,
      '--token-auth-file',
      '/dev/null',
      '--rbac-policy-file',
      files.policy,
      '--secure-port',
      String(port),
      '--bind-address',
      '127.0.0.1',
    ],
    { stdio: ['ignore', log, 'inherit'] },
  );
  // serve warms up before it listens: on a loaded machine that alone can take tens of seconds.
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const a = await post(port, ca, allowed);
      const r = await post(port, ca, refused);
      if (!a.text.includes('"allowed":true') || !r.text.includes('"allowed":false'))
        throw new Error(`unexpected answers: ${a.text} ${r.text}`);
      break;
    } catch (err) {
      if (Date.now() > deadline || /unexpected/.test(String(err))) throw err;
      await sleep(200);
    }
  }
  const url = `https://127.0.0.1:${port}${PATH}`;
  const wrkSar = (secs, latency) =>
    spawnSync(
      'taskset',
      [
        '-c',
        LOAD_CPU,
        'wrk',
        '-t1',
        '-c50',
        `-d${secs}s`,
        ...(latency ? ['--latency'] : []),
        '-s',
        files.script,
        url,
      ],
      { encoding: 'utf8', timeout: (secs + 30) * 1000 },
    );
  wrkSar(2, false);

  const cachedPool = join(dir, 'tokenreview', 'RS256.cached.txt');
  writeFileSync(cachedPool, setup.pools.RS256.cached.join('\n'));
  ceiling = await startServer('hono-ceiling', setup, { token: setup.pools.RS256.cached[0] });
  const honoLoad = (secs) =>
    runWrk({ port: ceiling.port, tokensFile: cachedPool, mode: 'cycle', seconds: secs });
  await honoLoad(2);

  const sarSlice = () => {
    wrkSar(1, false);
    const cpu0 = processCpuSeconds(server.pid);
    loadStartUs ??= Number(process.hrtime.bigint() / 1000n);
    const run = wrkSar(seconds, true);
    const cpu = processCpuSeconds(server.pid) - cpu0;
    const line = run.stdout.split('\n').find((l) => l.startsWith('JSON '));
    if (!line) throw new Error(`wrk failed: ${run.stderr}${run.stdout}`);
    const r = JSON.parse(line.slice(5));
    return { ...r, rps: (r.yes + r.no) / r.seconds, cpuUs: (cpu * 1e6) / (r.yes + r.no) };
  };
  const honoSlice = async () => {
    await honoLoad(1);
    const cpu0 = processCpuSeconds(ceiling.pid);
    const r = await honoLoad(seconds);
    const cpu = processCpuSeconds(ceiling.pid) - cpu0;
    return { okRps: r.okRps, cpuUs: (cpu * 1e6) / r.ok, bad: r.bad + r.exhausted };
  };
  const sar = [];
  const hono = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      sar.push(sarSlice());
      hono.push(await honoSlice());
    } else {
      hono.push(await honoSlice());
      sar.push(sarSlice());
    }
  }
  const result = {
    bindings,
    distinct,
    rounds,
    rps: median(sar.map((x) => x.rps)),
    allowed: sar.reduce((a, x) => a + x.yes, 0),
    denied: sar.reduce((a, x) => a + x.no, 0),
    bad: sar.reduce((a, x) => a + x.bad, 0),
    p50ms: median(sar.map((x) => x.p50)),
    p99ms: median(sar.map((x) => x.p99)),
    cpuUsPerAnswer: median(sar.map((x) => x.cpuUs)),
    perRound: sar.map((x) => Math.round(x.rps)),
    ceiling: {
      okRps: median(hono.map((x) => x.okRps)),
      cpuUsPerReq: median(hono.map((x) => x.cpuUs)),
      bad: hono.reduce((a, x) => a + x.bad, 0),
      perRound: hono.map((x) => Math.round(x.okRps)),
    },
    ratioPerRound: sar.map((x, i) => x.rps / hono[i].okRps),
  };
  console.log(`SARJSON ${JSON.stringify(result)}`);
  console.log(
    `SubjectAccessReview over HTTPS, ${bindings} RoleBindings, ` +
      `${distinct > 0 ? `${distinct} distinct bodies of each kind` : 'the same two bodies'}, median of ${rounds} slice(s) of ${seconds} s: ` +
      `${result.rps.toFixed(0)} answers/s (${result.allowed} allowed, ${result.denied} not, ${result.bad} errors), ` +
      `p50 ${result.p50ms.toFixed(2)} ms, p99 ${result.p99ms.toFixed(2)} ms at 50 connections, ` +
      `${result.cpuUsPerAnswer.toFixed(1)} µs of server CPU per answer; hono ceiling's cached TokenReview beside it ` +
      `${result.ceiling.okRps.toFixed(0)}/s (${result.ceiling.cpuUsPerReq.toFixed(1)} µs); per round ` +
      result.ratioPerRound.map((x) => x.toFixed(2)).join(', '),
  );
  if (profile) {
    await new Promise((resolve) => {
      server.once('exit', resolve);
      server.kill('SIGTERM');
    });
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    const s = summarize(join(profDir, file), 40, loadStartUs);
    console.log(
      `-- self time by place --\n${s.places.join('\n')}\n\n-- self time by function --\n${s.functions.join('\n')}`,
    );
  }
  if (result.bad > 0 || result.ceiling.bad > 0) process.exitCode = 1;
} finally {
  await ceiling?.stop();
  server?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
