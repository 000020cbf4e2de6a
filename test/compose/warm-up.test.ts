import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { warmUp } from '../../src/compose/warm-up.js';
import { StaticKeySource } from '../../src/keys/static.js';
import { toVerificationKey } from '../../src/keys/parse.js';
import { rsaKey } from '../helpers/keys.js';
import { sharedTls } from '../helpers/tls.js';

describe('warmUp', () => {
  it('sends the bounded number of reviews over HTTPS, each verified or answered from its cache, through the real path', async () => {
    const tls = await sharedTls();
    const report = await warmUp({
      requests: 80,
      tls: { cert: tls.cert, key: tls.key },
      keySources: [new StaticKeySource('real', [toVerificationKey(rsaKey().publicKey, 'real')])],
      maxRequestBytes: 131072,
      logLevel: 'info',
      clock: systemClock,
    });
    expect(report.requests).toBe(80);
    // Every throwaway token is valid for the throwaway issuer: all 80 ran the whole path.
    expect(report.authenticated).toBe(80);
  }, 60_000);
});
