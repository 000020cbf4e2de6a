// The ceilings' whole verification (bench only): each token is verified once with a bare
// crypto.verify and its answer string kept in a bounded Map; later requests only look it up.
import { verify } from 'node:crypto';
import { authenticatedReview, rejectedReview } from './review.mjs';

const HASH = {
  RS256: 'sha256',
  ES256: 'sha256',
  RS384: 'sha384',
  ES384: 'sha384',
  RS512: 'sha512',
  ES512: 'sha512',
};

export function ceilingVerifier(config) {
  const keys = new Map(config.keys.map((k) => [k.kid, k]));
  const audiences = [config.issuer];
  const answers = new Map();
  const max = config.cacheSize;
  const REJECTED = JSON.stringify(rejectedReview('invalid bearer token'));

  const verifyOnce = (token) => {
    const first = token.indexOf('.');
    const second = token.indexOf('.', first + 1);
    if (first <= 0 || second < 0) return REJECTED;
    let header, claims;
    try {
      header = JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8'));
    } catch {
      return REJECTED;
    }
    const k = keys.get(header.kid);
    if (!k || header.alg !== k.alg) return REJECTED;
    const data = Buffer.from(token.slice(0, second), 'latin1');
    const signature = Buffer.from(token.slice(second + 1), 'base64url');
    const key = k.alg.startsWith('ES') ? { key: k.key, dsaEncoding: 'ieee-p1363' } : k.key;
    if (!verify(HASH[k.alg], data, key, signature)) return REJECTED;
    const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
    if (claims.iss !== config.issuer || !Array.isArray(aud) || !aud.includes(config.issuer)) return REJECTED;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return REJECTED;
    return JSON.stringify(authenticatedReview(claims, audiences));
  };

  /** The answer string for a token: looked up, or verified once and kept (FIFO-bounded). */
  return (token) => {
    let answer = answers.get(token);
    if (answer === undefined) {
      answer = verifyOnce(token);
      if (answers.size >= max) answers.delete(answers.keys().next().value);
      answers.set(token, answer);
    }
    return answer;
  };
}
