// Bench ceiling (never shipped): the cheapest sidecar node can be. A bare node:https
// listener forwarding every request to a plain-HTTP upstream over a keep-alive agent, with
// the request's own header lines plus one identity header, the body piped both ways; no
// token check, no log, no metrics. What `tokenwarden proxy` adds beyond this is its own.
// Usage: node bench/ceilings/proxy-ceiling.mjs --port N --upstream-port N --cert FILE --key FILE
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:https';

const arg = (name) => process.argv[process.argv.indexOf(`--${name}`) + 1];
const upstreamPort = Number(arg('upstream-port'));
const agent = new Agent({ keepAlive: true, maxSockets: 1024, maxFreeSockets: 256, scheduling: 'lifo' });

const server = createServer(
  { cert: readFileSync(arg('cert')), key: readFileSync(arg('key')) },
  (req, res) => {
    const upstream = request(
      {
        agent,
        host: '127.0.0.1',
        port: upstreamPort,
        method: req.method,
        path: req.url,
        headers: [...req.rawHeaders, 'X-Remote-User', 'system:serviceaccount:bench:client'],
        setHost: false,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode, upstreamRes.rawHeaders);
        upstreamRes.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  },
);
server.keepAliveTimeout = 30_000;
server.listen(Number(arg('port')), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
