// Bench ceiling (never shipped): the node ceiling on hono + @hono/node-server over
// node:https, the stack tokenwarden runs on. The gap to the node ceiling is hono's cost.
// Usage: node bench/ceilings/hono-ceiling.mjs --config CONFIG.json --port N [--body incoming|request]
// --body incoming (default): the body is read from node's IncomingMessage (`c.env.incoming`,
//   @hono/node-server's HttpBindings), the fastest a hono app can read it.
// --body request: `c.req.text()`, as tokenwarden reads it; on Node 20 this builds an undici
//   Request with a web ReadableStream and an AbortSignal for every request.
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { createServer } from 'node:https';
import { ceilingVerifier } from '../lib/ceiling.mjs';
import { REVIEW_PATH, loadBenchConfig } from '../lib/review.mjs';

const config = loadBenchConfig();
const answerFor = ceilingVerifier(config);
const i = process.argv.indexOf('--body');
const viaRequest = i > 0 && process.argv[i + 1] === 'request';

const readIncoming = (incoming) =>
  new Promise((resolve, reject) => {
    let body = '';
    incoming.setEncoding('utf8');
    incoming.on('data', (chunk) => (body += chunk));
    incoming.once('end', () => resolve(body));
    incoming.once('error', reject);
  });

const app = new Hono();
app.post(REVIEW_PATH, async (c) => {
  let token;
  try {
    const text = viaRequest ? await c.req.text() : await readIncoming(c.env.incoming);
    token = JSON.parse(text)?.spec?.token;
  } catch {
    /* handled below */
  }
  if (typeof token !== 'string') return c.body(null, 400);
  return c.body(answerFor(token), 200, { 'content-type': 'application/json' });
});

const server = createAdaptorServer({
  fetch: app.fetch,
  createServer,
  serverOptions: { cert: config.cert, key: config.key, keepAliveTimeout: 30_000 },
});
server.listen(config.port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
