// The sidecar proxy's cost (bench only): one upstream process answering a small GET over
// HTTPS (direct) and plain HTTP (behind the proxy), and `tokenwarden proxy` in front of it
// pinned to CPU 1; wrk pinned to CPU 0 with one valid token in every request, so after the
// first request every answer is a cached token. Measures, in the same run, direct and
// proxied: requests/s at 50 connections, and p50/p99 at 1 connection (no queueing), whose
// difference is the latency the proxy adds. Prints one line of JSON after `PROXYJSON `.
//   node bench/proxy-http.mjs [--seconds 8]
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distFile, importDist } from './lib/dist.mjs';
import { freePort, sleep, SERVER_CPU } from './lib/servers.mjs';
import { LOAD_CPU } from './lib/wrk.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const seconds = Number(arg('seconds', '8'));
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
  const [httpPort, httpsPort, proxyPort] = [await freePort(), await freePort(), await freePort()];
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
  children.push(
    spawn(
      'taskset',
      [
        '-c',
        SERVER_CPU,
        process.execPath,
        distFile('cli/main.js'),
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
        String(proxyPort),
        '--bind-address',
        '127.0.0.1',
      ],
      { stdio: ['ignore', log, 'inherit'] },
    ),
  );
  // Correct before timed: the proxy passes the token's user and refuses no token with 401.
  await waitFor(async () => {
    const direct = await get(httpsPort, ca.cert);
    const ok = await get(proxyPort, ca.cert, token);
    const refused = await get(proxyPort, ca.cert);
    if (
      direct.status !== 200 ||
      ok.status !== 200 ||
      ok.user !== 'system:serviceaccount:bench:client' ||
      refused.status !== 401
    )
      throw new Error(`unexpected answers: ${JSON.stringify({ direct, ok, refused })}`);
  });
  // Warm-up, then direct and proxied interleaved so that both see the same machine.
  wrk(httpsPort, files.script, 50, 2);
  wrk(proxyPort, files.script, 50, 2);
  const proxyPid = children[1].pid;
  const direct = {
    throughput: wrk(httpsPort, files.script, 50, seconds),
    latency: wrk(httpsPort, files.script, 1, seconds),
  };
  const throughput = wrk(proxyPort, files.script, 50, seconds);
  const before = procTimes(proxyPid);
  const latency = wrk(proxyPort, files.script, 1, seconds);
  const after = procTimes(proxyPid);
  const requests = latency.rps * seconds;
  const result = {
    direct,
    proxied: {
      throughput,
      latency,
      // Per request of the 1-connection run: the proxy's own work, and its wait for a CPU.
      cpuUsPerRequest: (after.cpuUs - before.cpuUs) / requests,
      runQueueWaitUsPerRequest: (after.waitUs - before.waitUs) / requests,
    },
  };
  result.addedP50ms = result.proxied.latency.p50 - result.direct.latency.p50;
  result.addedP99ms = result.proxied.latency.p99 - result.direct.latency.p99;
  console.log(`PROXYJSON ${JSON.stringify(result)}`);
} finally {
  for (const c of children) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
