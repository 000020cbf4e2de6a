// Bench ceiling (never shipped): the proxy ceiling with undici as the upstream client. The
// same bare node:https listener as proxy-ceiling.mjs, forwarding to the plain-HTTP upstream
// through an undici Pool (kept-alive connections) with `dispatch` and a streaming handler:
// no ClientRequest, no agent bookkeeping. No token check, no log, no metrics.
// Usage: node bench/ceilings/proxy-ceiling-undici.mjs --port N --upstream-port N --cert FILE --key FILE
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { Pool } from 'undici';

const arg = (name) => process.argv[process.argv.indexOf(`--${name}`) + 1];
const origin = `http://127.0.0.1:${arg('upstream-port')}`;
const pool = new Pool(origin, { connections: 1024 });

/** Header lines undici sets itself, or refuses from a caller. */
const OWN = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect']);

const server = createServer(
  { cert: readFileSync(arg('cert')), key: readFileSync(arg('key')) },
  (req, res) => {
    const raw = req.rawHeaders;
    const headers = [];
    for (let i = 0; i < raw.length; i += 2)
      if (!OWN.has(raw[i].toLowerCase())) headers.push(raw[i], raw[i + 1]);
    headers.push('X-Remote-User', 'system:serviceaccount:bench:client');
    // No Content-Length and no Transfer-Encoding: no body (RFC 9112 §6.3). Not req.complete:
    // a GET's request event comes before node has seen its end.
    const length = req.headers['content-length'];
    const bodyless =
      (length === undefined || length === '0') && req.headers['transfer-encoding'] === undefined;
    pool.dispatch(
      { origin, method: req.method, path: req.url, headers, body: bodyless ? null : req },
      {
        onConnect(abort) {
          res.on('close', () => {
            if (!res.writableFinished) abort();
          });
        },
        onHeaders(status, rawHeaders, resume) {
          const lines = [];
          for (let i = 0; i < rawHeaders.length; i += 2) {
            const name = rawHeaders[i].toString('latin1');
            if (!OWN.has(name.toLowerCase())) lines.push(name, rawHeaders[i + 1].toString('latin1'));
          }
          res.writeHead(status, lines);
          res.on('drain', resume);
          return true;
        },
        onData(chunk) {
          return res.write(chunk);
        },
        onComplete() {
          res.end();
        },
        onError() {
          res.destroy();
        },
      },
    );
  },
);
server.keepAliveTimeout = 30_000;
server.listen(Number(arg('port')), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
