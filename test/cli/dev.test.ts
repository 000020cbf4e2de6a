import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { finished, requireBuiltBin, spawnCli, waitForOutput } from '../helpers/cli.js';
import { httpsRequest } from '../helpers/http.js';
import { reviewPath, tokenReview } from '../helpers/server.js';
import { segments } from '../helpers/tokens.js';

beforeAll(() => requireBuiltBin());

describe('tokenwarden dev (npm start)', () => {
  it('prints a demo token that its own server authenticates, with the CA to trust, and stops on SIGTERM', async () => {
    const child = spawnCli(['dev', '--secure-port', '0']);
    const exited = finished(child);
    try {
      const [, issuer, caFile, token] = await waitForOutput(
        child,
        'stderr',
        /dev issuer (https:\/\/localhost:\d+) is ready \(CA certificate: ([^)]+)\)\.\n\nDemo token[^\n]*\n(\S+)\n/,
      );
      const port = Number(new URL(issuer!).port);
      const ca = readFileSync(caFile!, 'utf8');

      const res = await httpsRequest({
        port,
        ca,
        method: 'POST',
        path: reviewPath(),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(tokenReview(token!)),
      });
      expect(res.json()).toMatchObject({
        status: {
          authenticated: true,
          user: { username: 'system:serviceaccount:default:demo' },
          audiences: [issuer],
        },
      });

      // The dev issuer publishes its key under the kid the token names, as kube-apiserver does.
      const jwks = await httpsRequest({ port, ca, path: '/openid/v1/jwks' });
      const kid = (JSON.parse(Buffer.from(segments(token!)[0], 'base64url').toString()) as { kid: string })
        .kid;
      expect(jwks.json()).toMatchObject({ keys: [{ kid, use: 'sig', alg: 'RS256', kty: 'RSA' }] });
      const discovery = await httpsRequest({ port, ca, path: '/.well-known/openid-configuration' });
      expect(discovery.json()).toMatchObject({ issuer, jwks_uri: `${issuer}/openid/v1/jwks` });

      child.kill('SIGTERM');
      const result = await exited;
      expect(result.code).toBe(0);
      // The demo token is printed on purpose, to stderr; the logs on stdout never carry it.
      expect(result.stdout).not.toContain(segments(token!)[2]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
