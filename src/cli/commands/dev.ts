import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ephemeralTls, runService } from '../../compose/run.js';
import { listenError } from '../../http/server.js';
import { loadConfig } from '../../config/load.js';
import { authenticationOptions, authorizationOptions, listenOptions } from '../../config/options.js';
import { helpText } from '../../config/schema.js';
import { createDevIssuer } from '../../dev/issuer.js';
import { createLogger } from '../../observe/log.js';
import type { Command } from '../usage.js';

/** A port free on `host` now; a host that cannot be listened on fails as the listener would. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', (err) => reject(listenError(err, host, 0)));
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * `npm start`: an ephemeral issuer, a throwaway certificate and a printed demo token
 * with a curl line that gets `"authenticated": true`, with no cluster at all.
 */
export const dev: Command = async (argv) => {
  const base = loadConfig('dev', argv);
  if (base.help) {
    console.log(helpText('dev', 'tokenwarden dev [options]'));
    return 0;
  }
  const port = base.securePort === 0 ? await freePort(base.bindAddress) : base.securePort;
  const host =
    base.bindAddress === '0.0.0.0' || base.bindAddress === '127.0.0.1' ? 'localhost' : base.bindAddress;
  const issuer = createDevIssuer(`https://${host}:${port}`);
  const config = {
    ...base,
    securePort: port,
    serviceAccountIssuers: [issuer.issuer],
    apiAudiences: [issuer.issuer],
  };
  const tls = await ephemeralTls();
  const dir = mkdtempSync(join(tmpdir(), 'tokenwarden-dev-'));
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, tls.caCert);

  const authorization = authorizationOptions(config);
  const stopped = runService({
    authentication: authenticationOptions(config, new Map([[issuer.issuer, issuer.keySource]])),
    ...(authorization ? { authorization } : {}),
    listen: { ...listenOptions(config), tls },
    logger: createLogger(config.logLevel),
    extraRoutes: (app) => issuer.routes(app),
    onListening: () => {
      const token = issuer.mintToken();
      const body = JSON.stringify({
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token },
      });
      // The demo token is printed on purpose, to stderr beside the logs' stdout: it is the point of `dev`.
      console.error(
        [
          '',
          `tokenwarden dev issuer ${issuer.issuer} is ready (CA certificate: ${caFile}).`,
          '',
          'Demo token (system:serviceaccount:default:demo, valid 1 hour):',
          token,
          '',
          'Review it:',
          `curl --cacert ${caFile} -H 'Content-Type: application/json' -d '${body}' ${issuer.issuer}/apis/authentication.k8s.io/v1/tokenreviews`,
          '',
        ].join('\n'),
      );
    },
  });
  // The throwaway CA lives only as long as the server it belongs to.
  return stopped.finally(() => rmSync(dir, { recursive: true, force: true }));
};
