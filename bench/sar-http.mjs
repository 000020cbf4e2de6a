// SubjectAccessReview over HTTPS (bench only): `tokenwarden serve` with a policy of
// 10,000 RoleBindings, pinned to CPU 1, and wrk pinned to CPU 0 (50 connections,
// keep-alive) asking one allowed and one not-allowed review in turn. Counts only
// answers with the expected `allowed`, and prints requests per second, latency and the
// server's CPU µs per answer (/proc; far less disturbed by other processes than the rate).
// --profile runs the server under `node --cpu-prof` and prints where its time went.
//   node bench/sar-http.mjs [--seconds 8] [--bindings 10000] [--profile]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importDist, distFile } from './lib/dist.mjs';
import { summarize } from './lib/cpuprofile.mjs';
import { IMAGE_NODE_FLAGS, freePort, processCpuSeconds, sleep, SERVER_CPU } from './lib/servers.mjs';
import { sarBody, sarPolicy } from './lib/sar.mjs';
import { LOAD_CPU } from './lib/wrk.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const seconds = Number(arg('seconds', '8'));
const bindings = Number(arg('bindings', '10000'));
const profile = process.argv.includes('--profile');
const PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

const { createCertificateAuthority, issueCertificate } = await importDist('dev/certs.js');
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
const lua = `
local bodies = { ${JSON.stringify(allowed)}, ${JSON.stringify(refused)} }
local i = 0
yes, no, bad = 0, 0, 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function request()
  i = i + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, bodies[(i % 2) + 1])
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
try {
  const ca = await createCertificateAuthority('bench-ca');
  const leaf = await issueCertificate(ca, {
    commonName: 'bench',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const files = {
    cert: join(dir, 'tls.crt'),
    key: join(dir, 'tls.key'),
    policy: join(dir, 'policy.yaml'),
    script: join(dir, 'sar.lua'),
  };
  writeFileSync(files.cert, leaf.cert + ca.cert);
  writeFileSync(files.key, leaf.key);
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
      files.cert,
      '--tls-private-key-file',
      files.key,
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
      const a = await post(port, ca.cert, allowed);
      const r = await post(port, ca.cert, refused);
      if (!a.text.includes('"allowed":true') || !r.text.includes('"allowed":false'))
        throw new Error(`unexpected answers: ${a.text} ${r.text}`);
      break;
    } catch (err) {
      if (Date.now() > deadline || /unexpected/.test(String(err))) throw err;
      await sleep(200);
    }
  }
  const url = `https://127.0.0.1:${port}${PATH}`;
  spawnSync('taskset', ['-c', LOAD_CPU, 'wrk', '-t1', '-c50', '-d2s', '-s', files.script, url], {
    encoding: 'utf8',
  });
  const cpu0 = processCpuSeconds(server.pid);
  const loadStartUs = Number(process.hrtime.bigint() / 1000n);
  const run = spawnSync(
    'taskset',
    ['-c', LOAD_CPU, 'wrk', '-t1', '-c50', `-d${seconds}s`, '--latency', '-s', files.script, url],
    {
      encoding: 'utf8',
      timeout: (seconds + 30) * 1000,
    },
  );
  const cpu = processCpuSeconds(server.pid) - cpu0;
  const line = run.stdout.split('\n').find((l) => l.startsWith('JSON '));
  if (!line) throw new Error(`wrk failed: ${run.stderr}${run.stdout}`);
  const r = JSON.parse(line.slice(5));
  const result = {
    bindings,
    rps: (r.yes + r.no) / r.seconds,
    allowed: r.yes,
    denied: r.no,
    bad: r.bad,
    p50ms: r.p50,
    p99ms: r.p99,
    cpuUsPerAnswer: (cpu * 1e6) / (r.yes + r.no),
  };
  console.log(`SARJSON ${JSON.stringify(result)}`);
  console.log(
    `SubjectAccessReview over HTTPS, ${bindings} RoleBindings: ${((r.yes + r.no) / r.seconds).toFixed(0)} answers/s ` +
      `(${r.yes} allowed, ${r.no} not, ${r.bad} errors), p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms at 50 connections, ` +
      `${((cpu * 1e6) / (r.yes + r.no)).toFixed(1)} µs of server CPU per answer`,
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
  if (r.bad > 0) process.exitCode = 1;
} finally {
  server?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
