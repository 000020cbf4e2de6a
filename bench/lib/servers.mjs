// Starting, checking and stopping the servers under test (bench only). Every server is
// one process pinned to CPU 1 with `taskset -c 1`, listening on 127.0.0.1: Node, or the
// Go ceiling with GOMAXPROCS=1.
import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { distDir } from './dist.mjs';
import { goBinary } from './go-build.mjs';
import { REVIEW_PATH } from './review.mjs';

const benchDir = fileURLToPath(new URL('../', import.meta.url));
export const SERVER_CPU = process.env.BENCH_SERVER_CPU ?? '1';

/**
 * The node flags the image's ENTRYPOINT starts tokenwarden with (the Dockerfile's `node FLAGS… …/cli/main.js`):
 * the bench runs every tokenwarden build the way the image does.
 */
export const IMAGE_NODE_FLAGS = imageNodeFlags(
  readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8'),
);

function imageNodeFlags(dockerfile) {
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile);
  const argv = line ? JSON.parse(line[1]) : [];
  const script = argv.findIndex((a) => a.endsWith('/cli/main.js'));
  if (argv[0] !== 'node' || script < 0)
    throw new Error(
      'bench: the Dockerfile has no ENTRYPOINT ["node", …, "…/cli/main.js"] to take node flags from',
    );
  return argv.slice(1, script);
}

const tokenwardenArgs = (dist) => (s, port) => [
  resolve(dist, 'cli/main.js'),
  'serve',
  '--tls-cert-file',
  s.certFile,
  '--tls-private-key-file',
  s.keyFile,
  '--service-account-issuer',
  s.issuer,
  '--service-account-key-file',
  s.publicKeysFile,
  '--secure-port',
  String(port),
  '--bind-address',
  '127.0.0.1',
  '--cache-size',
  String(s.cacheSize),
  '--cache-ttl',
  `${Math.round(s.cacheTtlMs / 1000)}s`,
];

/** A tokenwarden build run as the image runs it, with `extra` serve flags. */
const tokenwardenServer = (label, dist, ...extra) => ({
  label,
  nodeFlags: IMAGE_NODE_FLAGS,
  args: (s, port) => [...tokenwardenArgs(dist)(s, port), ...extra],
});

/** A peer or ceiling of bench/: `node SCRIPT --config CONFIG --port N [extra…]`. */
const benchScript =
  (script, ...extra) =>
  (s, port) => [`${benchDir}${script}`, '--config', s.configFile, '--port', String(port), ...extra];

export const SERVERS = {
  // Default logging (info, one JSON line per review, to stdout → /dev/null) and metrics.
  // --cache-ttl 10m as fast-jwt's default cacheTTL, so no cached entry expires mid-run.
  tokenwarden: tokenwardenServer('tokenwarden', distDir),
  // Diagnostic: the same build with prom-client's GC-duration histogram on (--gc-duration-metric).
  'tokenwarden-gc-metric': tokenwardenServer(
    'tokenwarden --gc-duration-metric',
    distDir,
    '--gc-duration-metric',
  ),
  // Diagnostic: the same build on node's own heap defaults, without the image's node flags.
  'tokenwarden-v8-defaults': { label: 'tokenwarden, node defaults', args: tokenwardenArgs(distDir) },
  fastify: { label: 'fastify + fast-jwt', args: benchScript('peers/fastify-fastjwt.mjs') },
  express: { label: 'express + jsonwebtoken', args: benchScript('peers/express-jsonwebtoken.mjs') },
  'node-ceiling': { label: 'node ceiling', args: benchScript('ceilings/node-ceiling.mjs') },
  'hono-ceiling': { label: 'hono ceiling', args: benchScript('ceilings/hono-ceiling.mjs') },
  // No JavaScript engine: what the machine and the generator leave for any server's tail.
  'go-ceiling': {
    label: 'Go ceiling',
    exec: () => goBinary('ceilings/go-ceiling'),
    env: { GOMAXPROCS: '1' },
    args: (s, port) => ['-config', s.configFile, '-port', String(port)],
  },
  // Diagnostic: the hono ceiling reading its body with c.req.text(), as tokenwarden does.
  'hono-ceiling-req': {
    label: 'hono ceiling, c.req.text()',
    args: benchScript('ceilings/hono-ceiling.mjs', '--body', 'request'),
  },
};

/**
 * Other builds side by side (prototypes of a change), as extra servers `tokenwarden-alt1`…:
 * BENCH_ALT_DIST='label=/path/to/dist,label2=/other/dist'.
 */
export const ALT_SERVERS = (process.env.BENCH_ALT_DIST ?? '')
  .split(',')
  .filter(Boolean)
  .map((spec, i) => {
    const eq = spec.indexOf('=');
    const [label, dist] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [`alt ${i + 1}`, spec];
    const name = `tokenwarden-alt${i + 1}`;
    SERVERS[name] = tokenwardenServer(`tokenwarden (${label})`, dist);
    return name;
  });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** One TokenReview over a fresh HTTPS connection: { status, body } (body parsed when JSON). */
export function review(port, token, ca, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: REVIEW_PATH,
        method: 'POST',
        ca,
        servername: 'localhost',
        agent: false,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let body = text;
          try {
            body = JSON.parse(text);
          } catch {
            /* keep the text */
          }
          resolve({ status: res.statusCode, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Starts one server pinned to SERVER_CPU; resolves once it answers a valid token. */
export async function startServer(name, setup, { nodeFlags = [], token, stdoutFile } = {}) {
  const def = SERVERS[name];
  const port = await freePort();
  // stdoutFile: the access log and V8's --trace-gc lines kept (a file costs more per write than /dev/null).
  const devnull = openSync(stdoutFile ?? '/dev/null', 'w');
  const command = def.exec ? [def.exec()] : [process.execPath, ...(def.nodeFlags ?? []), ...nodeFlags];
  const child = spawn('taskset', ['-c', SERVER_CPU, ...command, ...def.args(setup, port)], {
    stdio: ['ignore', devnull, 'pipe'],
    env: { ...process.env, ...def.env },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => {
    if (stderr.length < 20_000) stderr += c;
  });
  let exited = null;
  child.once('exit', (code, signal) => (exited = { code, signal }));
  const hasExited = () => exited;
  const ca = readFileSync(setup.caFile);
  // serve warms up before it listens: on a loaded machine that alone has taken over 20 s.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`${name} exited (${JSON.stringify(exited)}) before serving: ${stderr}`);
    try {
      const r = await review(port, token, ca, 2000);
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not answer within 60 s: ${stderr}`);
    }
    await sleep(100);
  }
  return {
    name,
    label: def.label,
    port,
    pid: child.pid,
    ca,
    caFile: setup.caFile,
    stderr: () => stderr,
    // SIGSTOP/SIGCONT: a server not being measured does no work on the shared core.
    pause: () => signal(child, 'SIGSTOP', hasExited),
    resume: () => signal(child, 'SIGCONT', hasExited),
    stop: async () => {
      signal(child, 'SIGCONT', hasExited);
      await stopChild(child, hasExited);
    },
  };
}

function signal(child, name, exited) {
  if (!exited()) child.kill(name);
}

async function stopChild(child, exited) {
  if (exited()) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = sleep(5000).then(() => 'timeout');
  if ((await Promise.race([gone, timer])) === 'timeout') {
    child.kill('SIGKILL');
    await gone;
  }
}

/**
 * Before timing: a valid token must be answered authenticated with the right user, and
 * the same token with one signature byte flipped must be refused.
 */
export async function checkAnswers(server, validToken, brokenToken, expectedUsername) {
  const good = await review(server.port, validToken, server.ca);
  const st = good.body?.status;
  const problems = [];
  if (good.status !== 200 || st?.authenticated !== true)
    problems.push(`valid token not authenticated (${good.status})`);
  else {
    if (st.user?.username !== expectedUsername)
      problems.push(`username ${st.user?.username} ≠ ${expectedUsername}`);
    if (!st.user?.groups?.includes('system:authenticated')) problems.push('no system:authenticated group');
  }
  const bad = await review(server.port, brokenToken, server.ca);
  if (bad.body?.status?.authenticated !== false)
    problems.push(`broken signature not refused (${bad.status})`);
  return problems;
}

/** utime + stime of a process in seconds (/proc/PID/stat). */
export function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Busy and total seconds of the whole machine (/proc/stat, all CPUs). */
export function machineCpu() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + v[4];
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / 100, total: total / 100 };
}
