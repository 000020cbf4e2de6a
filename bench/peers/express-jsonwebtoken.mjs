// Bench stand-in (never shipped): express + jsonwebtoken (no cache: jsonwebtoken has
// none), answering TokenReview with the same checks as tokenwarden: signature, iss, aud, exp.
// Usage: node bench/peers/express-jsonwebtoken.mjs --config CONFIG.json --port N
import express from 'express';
import jwt from 'jsonwebtoken';
import { createServer } from 'node:https';
import {
  REVIEW_PATH,
  authenticatedReview,
  loadBenchConfig,
  peekHeader,
  rejectedReview,
} from '../lib/review.mjs';

const config = loadBenchConfig();
const audiences = [config.issuer];
const keys = new Map(config.keys.map((k) => [k.kid, k]));

const app = express();
app.use(express.json({ limit: '128kb' }));
app.post(REVIEW_PATH, (req, res) => {
  const token = req.body?.spec?.token;
  if (typeof token !== 'string' || token === '') {
    res.status(400).json({ kind: 'Status', status: 'Failure', message: 'token is required', code: 400 });
    return;
  }
  const k = keys.get(peekHeader(token)?.kid);
  if (!k) {
    res.json(rejectedReview('invalid bearer token'));
    return;
  }
  let claims;
  try {
    claims = jwt.verify(token, k.key, {
      algorithms: [k.alg],
      issuer: config.issuer,
      audience: config.issuer,
    });
  } catch {
    res.json(rejectedReview('invalid bearer token'));
    return;
  }
  if (typeof claims.exp !== 'number') {
    res.json(rejectedReview('service account token has no expiration (exp)'));
    return;
  }
  res.json(authenticatedReview(claims, audiences));
});

const server = createServer({ cert: config.cert, key: config.key }, app);
server.keepAliveTimeout = 30_000;
server.listen(config.port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
