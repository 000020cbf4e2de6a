// The sidecar proxy's cost (bench only): one upstream process answering a small GET over
// HTTPS (direct) and plain HTTP (behind the proxy), and `tokenwarden proxy` in front of it
// pinned to CPU 1; wrk pinned to CPU 0 with one valid token in every request, so after the
// first request every answer is a cached token. Every path is measured with the same wrk
// script, connections and upstream: direct, through tokenwarden, and through the two proxy
// ceilings (bench/ceilings/proxy-ceiling.mjs: a bare node proxy with node's http client;
// proxy-ceiling-undici.mjs: the same with undici's Pool, the client tokenwarden uses; the
// floor of any node sidecar), in interleaved rounds (medians reported): requests/s at 50 connections, and
// p50/p99 at 1 connection (no queueing), whose difference from direct in the same round is
// the latency a proxy adds; and each proxy's CPU µs per request at both, from /proc (far
// less disturbed by other processes than latency). BENCH_ALT_DIST='label=/path/to/dist,…'
// adds other builds of tokenwarden to the same rounds. Prints one line of JSON after
// `PROXYJSON `.
//   node bench/proxy-http.mjs [--seconds 8] [--rounds 3] [--profile]
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize } from './lib/cpuprofile.mjs';
import { distDir, importDist } from './lib/dist.mjs';
import { IMAGE_NODE_FLAGS, freePort, sleep, SERVER_CPU } from './lib/servers.mjs';
import { LOAD_CPU } from './lib/wrk.mjs';
import { median } from './lib/median.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const seconds = Number(arg('seconds', '8'));
const rounds = Number(arg('rounds', '3'));
// --profile: every proxy runs under `node --cpu-prof`; after the rounds, each one's self time
// by function during the timed rounds (warm-up left out) is printed to stderr.
const profiling = process.argv.includes('--profile');
const alts = (process.env.BENCH_ALT_DIST ?? '')
  .split(',')
  .filter(Boolean)
  .map((spec, i) => {
    const eq = spec.indexOf('=');
    return eq > 0
      ? { label: spec.slice(0, eq), dist: spec.slice(eq + 1) }
      : { label: `alt ${i + 1}`, dist: spec };
  })
  // A build from before the proxy existed is measured by the other benches only.
  .filter((a) => {
    const has = existsSync(join(a.dist, 'compose', 'run-proxy.js'));
    if (!has) console.error(`proxy bench: ${a.label} has no proxy command; left out`);
    return has;
  });
const ISSUER = 'https://kubernetes.default.svc.cluster.local';

const { createCertificateAuthority, issueCertificate } = await importDist('dev/certs.js');
const { signJwt } = await importDist('dev/sign.js');
const { kubeKeyId } = await importDist('keys/kid.js');
const dir = mkdtempSync(join(tmpdir(), 'tokenwarden-proxy-bench-'));

const upstreamSource = `
import { createServer as http } from 'node:http';
import { createServer as https } from 'node:https';
import { readFileSync } from 'node:fs';
const body = JSON.stringify({ ok: true, items: [1, 2, 3] });
const handler = (req, res) => {
  // The proxy must have set the identity; direct requests carry none and are answered alike.
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, 'x-user': req.headers['x-remote-user'] ?? '' });
  res.end(body);
};
const [httpPort, httpsPort, cert, key] = process.argv.slice(2);
http(handler).listen(Number(httpPort), '127.0.0.1');
https({ cert: readFileSync(cert), key: readFileSync(key) }, handler).listen(Number(httpsPort), '127.0.0.1');
`;

const lua = (token) => `
ok, bad = 0, 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) wrk.headers["Authorization"] = "Bearer ${token}" end
function response(status, headers, body) if status == 200 then ok = ok + 1 else bad = bad + 1 end end
function done(summary, latency, requests)
  local o, b = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("bad") end
  io.write(string.format("JSON {\\"ok\\":%d,\\"bad\\":%d,\\"seconds\\":%f,\\"p50\\":%f,\\"p99\\":%f}\\n", o, b, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
`;

function get(port, ca, token) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/items',
        ca,
        servername: 'localhost',
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, user: res.headers['x-user'] }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(check) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

function wrk(port, script, connections, secs) {
  const run = spawnSync(
    'taskset',
    [
      '-c',
      LOAD_CPU,
      'wrk',
      '-t1',
      `-c${connections}`,
      `-d${secs}s`,
      '--latency',
      '-s',
      script,
      `https://127.0.0.1:${port}/items`,
    ],
    { encoding: 'utf8', timeout: (secs + 30) * 1000 },
  );
  const line = run.stdout.split('\n').find((l) => l.startsWith('JSON '));
  if (!line) throw new Error(`wrk failed: ${run.stderr}${run.stdout}`);
  const r = JSON.parse(line.slice(5));
  if (r.bad > 0) throw new Error(`${r.bad} answers were not 200`);
  if (r.ok === 0) throw new Error(`no answer at all from port ${port}: ${run.stdout}`);
  return { rps: r.ok / r.seconds, p50: r.p50, p99: r.p99 };
}

/**
 * The proxy's CPU time and its time waiting for a CPU (run queue) so far, in µs, from
 * /proc: on a loaded machine the second, not the first, is what a pinned proxy's latency is.
 */
function procTimes(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const tick = 1e6 / 100;
  const runQueueNs = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
  return { cpuUs: (Number(stat[11]) + Number(stat[12])) * tick, waitUs: runQueueNs / 1000 };
}

const children = [];
try {
  const ca = await createCertificateAuthority('bench-ca');
  const leaf = await issueCertificate(ca, {
    commonName: 'bench',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Math.floor(Date.now() / 1000);
  const token = signJwt(
    { alg: 'RS256', kid: kubeKeyId(publicKey) },
    {
      iss: ISSUER,
      aud: [ISSUER],
      sub: 'system:serviceaccount:bench:client',
      iat: now,
      nbf: now,
      exp: now + 3600,
      'kubernetes.io': {
        namespace: 'bench',
        serviceaccount: { name: 'client', uid: '5c67e9c7-0b12-44ae-a97e-f2ee4cd061b0' },
      },
    },
    privateKey,
  );
  const f = (name, text) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const files = {
    cert: f('tls.crt', leaf.cert + ca.cert),
    key: f('tls.key', leaf.key),
    sa: f('sa.pub', publicKey.export({ type: 'spki', format: 'pem' })),
    upstream: f('upstream.mjs', upstreamSource),
    script: f('proxy.lua', lua(token)),
  };
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const log = openSync('/dev/null', 'w');
  children.push(
    spawn(
      'taskset',
      [
        '-c',
        LOAD_CPU,
        process.execPath,
        files.upstream,
        String(httpPort),
        String(httpsPort),
        files.cert,
        files.key,
      ],
      {
        stdio: ['ignore', log, 'inherit'],
      },
    ),
  );
  const profiles = new Map();
  const pinned = (args) => {
    const profDir = join(dir, `prof-${children.length}`);
    if (profiling) mkdirSync(profDir);
    const flags = profiling ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
    const child = spawn('taskset', ['-c', SERVER_CPU, process.execPath, ...flags, ...args], {
      stdio: ['ignore', log, 'inherit'],
    });
    children.push(child);
    profiles.set(child.pid, profDir);
    return child;
  };
  const tokenwardenProxy = async (label, dist) => {
    const port = await freePort();
    const child = pinned([
      ...IMAGE_NODE_FLAGS,
      join(dist, 'cli/main.js'),
      'proxy',
      '--upstream',
      `http://127.0.0.1:${httpPort}`,
      '--service-account-issuer',
      ISSUER,
      '--service-account-key-file',
      files.sa,
      '--tls-cert-file',
      files.cert,
      '--tls-private-key-file',
      files.key,
      '--secure-port',
      String(port),
      '--bind-address',
      '127.0.0.1',
    ]);
    return { label, port, pid: child.pid, refuses: true };
  };
  const ceiling = async (label, file) => {
    const port = await freePort();
    const child = pinned([
      fileURLToPath(new URL(`./ceilings/${file}`, import.meta.url)),
      '--port',
      String(port),
      '--upstream-port',
      String(httpPort),
      '--cert',
      files.cert,
      '--key',
      files.key,
    ]);
    return { label, port, pid: child.pid, refuses: false };
  };
  const proxies = [
    await tokenwardenProxy('tokenwarden', distDir),
    await ceiling('ceiling', 'proxy-ceiling.mjs'),
    await ceiling('ceiling (undici)', 'proxy-ceiling-undici.mjs'),
    ...(await Promise.all(alts.map((a) => tokenwardenProxy(`tokenwarden (${a.label})`, a.dist)))),
  ];
  // Correct before timed: each proxy passes the token's user, and tokenwarden refuses no token with 401.
  for (const p of proxies) {
    await waitFor(async () => {
      const direct = await get(httpsPort, ca.cert);
      const ok = await get(p.port, ca.cert, token);
      const refused = p.refuses ? await get(p.port, ca.cert) : { status: 401 };
      if (
        direct.status !== 200 ||
        ok.status !== 200 ||
        ok.user !== 'system:serviceaccount:bench:client' ||
        refused.status !== 401
      )
        throw new Error(`${p.label}: unexpected answers: ${JSON.stringify({ direct, ok, refused })}`);
    });
  }
  // Warm-up, then rounds in which every path runs once at each load, in an order that
  // alternates from round to round, so that all see the same machine.
  wrk(httpsPort, files.script, 50, 2);
  for (const p of proxies) {
    try {
      wrk(p.port, files.script, 50, 2);
    } catch (err) {
      throw new Error(`${p.label}, warming up: ${err.message}`);
    }
  }
  const timedFromUs = Number(process.hrtime.bigint() / 1000n);
  const samples = new Map([['direct', []], ...proxies.map((p) => [p.label, []])]);
  const measured = (p, connections) => {
    if (!p) return { ...wrk(httpsPort, files.script, connections, seconds), cpuUs: 0, waitUs: 0 };
    const before = procTimes(p.pid);
    let r;
    try {
      r = wrk(p.port, files.script, connections, seconds);
    } catch (err) {
      throw new Error(`${p.label} at ${connections} connection(s): ${err.message}`);
    }
    const after = procTimes(p.pid);
    const requests = r.rps * seconds;
    return {
      ...r,
      cpuUs: (after.cpuUs - before.cpuUs) / requests,
      waitUs: (after.waitUs - before.waitUs) / requests,
    };
  };
  for (let round = 0; round < rounds; round++) {
    const order = [undefined, ...proxies];
    if (round % 2 === 1) order.reverse();
    for (const p of order)
      samples.get(p ? p.label : 'direct').push({ throughput: measured(p, 50), latency: measured(p, 1) });
    process.stderr.write(`proxy bench: round ${round + 1} of ${rounds} done\n`);
  }
  const direct = samples.get('direct');
  /** Medians over the rounds; "added" is each round's difference from direct in the same round. */
  const summary = (label) => {
    const s = samples.get(label);
    const m = (f) => median(s.map(f));
    return {
      throughput: {
        rps: m((x) => x.throughput.rps),
        p50: m((x) => x.throughput.p50),
        p99: m((x) => x.throughput.p99),
      },
      latency: { rps: m((x) => x.latency.rps), p50: m((x) => x.latency.p50), p99: m((x) => x.latency.p99) },
      // The proxy's own work per request at 1 and at 50 connections, and its wait for a CPU at 1.
      cpuUsPerRequest: m((x) => x.latency.cpuUs),
      cpuUsPerRequestAt50: m((x) => x.throughput.cpuUs),
      runQueueWaitUsPerRequest: m((x) => x.latency.waitUs),
      addedP50ms: median(s.map((x, i) => x.latency.p50 - direct[i].latency.p50)),
      addedP99ms: median(s.map((x, i) => x.latency.p99 - direct[i].latency.p99)),
    };
  };
  const proxied = summary('tokenwarden');
  const result = {
    rounds,
    direct: {
      throughput: { rps: median(direct.map((x) => x.throughput.rps)) },
      latency: {
        p50: median(direct.map((x) => x.latency.p50)),
        p99: median(direct.map((x) => x.latency.p99)),
      },
    },
    proxied,
    addedP50ms: proxied.addedP50ms,
    addedP99ms: proxied.addedP99ms,
    ceiling: summary('ceiling'),
    ceilingUndici: summary('ceiling (undici)'),
    alts: proxies.slice(3).map((p) => ({ label: p.label, ...summary(p.label) })),
  };
  console.log(`PROXYJSON ${JSON.stringify(result)}`);
  if (profiling) {
    for (const p of proxies) {
      const child = children.find((c) => c.pid === p.pid);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      const profDir = profiles.get(p.pid);
      const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
      if (!file) {
        process.stderr.write(`${p.label}: no profile written\n`);
        continue;
      }
      const s = summarize(join(profDir, file), 40, timedFromUs);
      process.stderr.write(
        `\n== ${p.label}: ${s.totalMs.toFixed(0)} ms sampled in the timed rounds ==\n-- by place --\n${s.places.join('\n')}\n-- by function (self) --\n${s.functions.join('\n')}\n`,
      );
    }
  }
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
