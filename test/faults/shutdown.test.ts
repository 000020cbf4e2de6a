import { Agent, request } from 'node:https';
import { describe, expect, it } from 'vitest';
import { ecKey } from '../helpers/keys.js';
import { boundClaims, mintToken, withPrivate } from '../helpers/tokens.js';
import { allCorrect, describeLoad, runLoad, type Probe } from './harness/load.js';
import { eventually, servePool } from './harness/serve-process.js';

const pool = servePool('faults-shutdown');

const USER = 'system:serviceaccount:ns1:app';

function keepAliveGet(
  port: number,
  path: string,
): Promise<{ status: number; connection: string | undefined }> {
  const agent = new Agent({ keepAlive: true });
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, ca: pool.tls.ca, path, agent }, (res) => {
      res.resume();
      res.on('end', () => {
        agent.destroy();
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('SIGTERM under load (tokenwarden serve as a child process)', () => {
  it('answers every request it accepted, fails /readyz while draining, then exits 0', async () => {
    const key = ecKey('P-256', 'shutdown');
    const now = Math.floor(Date.now() / 1000);
    const serve = await pool.withKeys(key.publicPem, [
      '--shutdown-delay-duration',
      '1s',
      '--shutdown-timeout',
      '10s',
    ]);
    const probes: Probe[] = [
      { name: 'valid', token: mintToken({ key, claims: boundClaims({}, now) }), user: USER },
      {
        name: 'another service account',
        token: mintToken({ key, claims: withPrivate({ namespace: 'ns2' }, now) }),
        user: 'system:serviceaccount:ns2:app',
      },
      {
        name: 'foreign key',
        token: mintToken({ key: ecKey('P-256', 'foreign'), claims: boundClaims({}, now) }),
        user: null,
      },
      { name: 'expired', token: mintToken({ key, claims: boundClaims({}, now - 7200) }), user: null },
      { name: 'garbage', token: 'not-a-jwt', user: null },
    ];

    let answered = 0;
    const load = runLoad({
      port: serve.port,
      ca: pool.tls.ca,
      probes,
      concurrency: 16,
      maxRequests: 50_000,
      maxMs: 30_000,
      untilRefused: true,
      onAnswer: (n) => (answered = n),
    });
    expect(await eventually(() => answered >= 500, 15_000)).toBe(true);
    const draining = serve.next('shutting down: /readyz now fails');
    serve.child.kill('SIGTERM');
    await draining;
    // The shutdown delay: still serving, but no longer ready, so endpoints drop the pod.
    const readyz = await keepAliveGet(serve.port, '/readyz');
    const report = await load;
    const result = await serve.exited;
    console.log(describeLoad('SIGTERM during load', report));

    expect(readyz.status).toBe(503);
    // Asked on a keep-alive connection, told to close it: clients leave before the listener does.
    expect(readyz.connection).toBe('close');
    expect(result).toMatchObject({ code: 0, signal: null });
    expect(allCorrect(report)).toMatchObject({ samples: [], wrong: 0, fiveXX: 0 });
    // Every review the service decided reached its client: none was cut off by the drain.
    const decided = serve.logged('tokenreview').length;
    expect(report.byStatus[200]).toBe(decided);
    // The only requests without an answer are ones it never read: new connections refused by
    // the closed listener, or cut while their TLS handshake was under way when it closed.
    expect(Object.keys(report.errors).filter((c) => c !== 'ECONNREFUSED' && c !== 'ECONNRESET')).toEqual([]);
    expect(report.errors.ECONNREFUSED).toBeGreaterThan(0);
  }, 60_000);
});
