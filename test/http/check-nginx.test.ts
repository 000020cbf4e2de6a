import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suiteDir, writeFile } from '../helpers/files.js';
import { leakedSecrets } from '../helpers/logs.js';
import {
  recordingUpstream,
  startTestProxy,
  type RecordingUpstream,
  type TestProxy,
} from '../helpers/proxy.js';
import { boundClaims, mintToken } from '../helpers/tokens.js';

/** nginx is a test dependency (`.ci/run` installs it): a missing binary fails here, it never skips. */
function nginxBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx'], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')[0];
  if (!found)
    throw new Error('nginx is not installed: apt-get update && apt-get install -y nginx (see .ci/run)');
  const modules = spawnSync(found, ['-V'], { encoding: 'utf8' }).stderr;
  if (!modules.includes('http_auth_request_module'))
    throw new Error(`${found} lacks the auth_request module`);
  return found;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

function get(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const r = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      r.on('error', reject);
      r.end();
    },
  );
}

/** The docs/proxy.md nginx snippet, with the test's ports and files. */
function nginxConf(dir: string, port: number, tokenwardenPort: number, upstreamPort: number): string {
  return `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp-body;
  proxy_temp_path ${dir}/tmp-proxy;
  fastcgi_temp_path ${dir}/tmp-fastcgi;
  uwsgi_temp_path ${dir}/tmp-uwsgi;
  scgi_temp_path ${dir}/tmp-scgi;
  server {
    listen 127.0.0.1:${port};
    location / {
      auth_request /_tokenwarden;
      auth_request_set $tw_user $upstream_http_x_remote_user;
      auth_request_set $tw_uid $upstream_http_x_remote_uid;
      auth_request_set $tw_group $upstream_http_x_remote_group;
      proxy_set_header X-Remote-User $tw_user;
      proxy_set_header X-Remote-Uid $tw_uid;
      proxy_set_header X-Remote-Group $tw_group;
      proxy_set_header Authorization "";
      proxy_pass http://127.0.0.1:${upstreamPort};
    }
    location = /_tokenwarden {
      internal;
      proxy_pass https://127.0.0.1:${tokenwardenPort}/check;
      proxy_ssl_trusted_certificate ${dir}/ca.pem;
      proxy_ssl_verify on;
      proxy_ssl_name localhost;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
    }
  }
}
`;
}

describe('/check behind a real nginx auth_request', () => {
  let upstream: RecordingUpstream;
  let proxy: TestProxy;
  let nginx: ChildProcess;
  let port: number;
  let dir: string;
  let removeDir: () => void;
  const sent: string[] = [];
  const token = (sub = 'app') => {
    const t = mintToken({
      claims: boundClaims(
        {
          sub: `system:serviceaccount:ns1:${sub}`,
          'kubernetes.io': { namespace: 'ns1', serviceaccount: { name: sub, uid: 'u-1' } },
        },
        Math.floor(Date.now() / 1000),
      ),
    });
    sent.push(t);
    return t;
  };

  beforeAll(async () => {
    const binary = nginxBinary();
    upstream = await recordingUpstream();
    // The proxy's own upstream is never used here: nginx talks to the app itself.
    proxy = await startTestProxy({
      upstream: 'http://127.0.0.1:9',
      flags: ['--check-endpoint', '--allow-service-account', 'ns1:app'],
    });
    ({ dir, remove: removeDir } = suiteDir('tokenwarden-nginx-'));
    writeFile(dir, 'ca.pem', proxy.ca);
    port = await freePort();
    const conf = writeFile(dir, 'nginx.conf', nginxConf(dir, port, proxy.port, upstream.port));
    nginx = spawn(binary, ['-e', join(dir, 'error.log'), '-p', dir, '-c', conf], { stdio: 'ignore' });
    // nginx is up when it answers; bounded: 100 tries.
    for (let i = 0; i < 100; i++) {
      if (
        await get(port, '/').then(
          () => true,
          () => false,
        )
      )
        return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`nginx did not start: ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
  });
  afterAll(async () => {
    nginx?.kill('SIGTERM');
    await proxy?.close();
    await upstream?.close();
    removeDir?.();
  });

  it('lets a valid token through with the identity nginx copied from /check, replacing forged headers', async () => {
    const res = await get(port, '/api/items?x=1', {
      Authorization: `Bearer ${token()}`,
      'X-Remote-User': 'system:admin',
    });
    expect(res.status).toBe(200);
    expect(res.body).toBe('upstream ok');
    const got = upstream.received.at(-1)!;
    expect(got.url).toBe('/api/items?x=1');
    expect(upstream.headerLines(got, 'x-remote-user')).toEqual(['system:serviceaccount:ns1:app']);
    expect(upstream.headerLines(got, 'x-remote-uid')).toEqual(['u-1']);
    // nginx 1.22 keeps the first line of a repeated upstream header in $upstream_http_*.
    expect(upstream.headerLines(got, 'x-remote-group')[0]).toMatch(/^system:serviceaccounts/);
    expect(upstream.headerLines(got, 'authorization')).toEqual([]);
  });

  it('answers 401 with the Bearer challenge and never reaches the app without a valid token', async () => {
    const before = upstream.received.length;
    const none = await get(port, '/api/items');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    const bad = await get(port, '/api/items', { Authorization: 'Bearer forged.token.value' });
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(upstream.received.length).toBe(before);
  });

  it('answers 403 for a caller outside the allow-list', async () => {
    const before = upstream.received.length;
    expect((await get(port, '/api/items', { Authorization: `Bearer ${token('other')}` })).status).toBe(403);
    expect(upstream.received.length).toBe(before);
  });

  it('logs no token', () => {
    for (const t of sent) expect(leakedSecrets(proxy.logs.text(), t)).toEqual([]);
  });
});
