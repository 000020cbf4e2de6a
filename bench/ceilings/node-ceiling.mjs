// Bench ceiling (never shipped): bare node:https. A token is verified once (bare
// crypto.verify); every later request is body read, JSON.parse, Map lookup, write.
// Usage: node bench/ceilings/node-ceiling.mjs --config CONFIG.json --port N
import { createServer } from 'node:https';
import { ceilingVerifier } from '../lib/ceiling.mjs';
import { REVIEW_PATH, loadBenchConfig } from '../lib/review.mjs';

const config = loadBenchConfig();
const answerFor = ceilingVerifier(config);

const server = createServer({ cert: config.cert, key: config.key }, (req, res) => {
  if (req.method !== 'POST' || !req.url.startsWith(REVIEW_PATH)) {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    let token;
    try {
      token = JSON.parse(body)?.spec?.token;
    } catch {
      /* handled below */
    }
    if (typeof token !== 'string') {
      res.writeHead(400).end();
      return;
    }
    const answer = answerFor(token);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(config.port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
