import { describe, expect, it } from 'vitest';
import { NO_OPINION, type AuthnResult, type AuthnSuccess } from '../../src/authn/authenticator.js';
import { encodeTokenReview } from '../../src/api/tokenreview.js';
import { ReviewBytes, type AnswerText } from '../../src/http/review-bytes.js';

const V1 = 'authentication.k8s.io/v1';
const V1BETA1 = 'authentication.k8s.io/v1beta1';

/** Frozen, as the token cache hands out a result it keeps. */
function success(username: string, audiences: readonly string[] = ['https://issuer']): AuthnSuccess {
  return Object.freeze({
    outcome: 'authenticated',
    user: { username, groups: ['system:authenticated'] },
    audiences,
  });
}

function answer(review: AnswerText): unknown {
  return JSON.parse(review.text);
}

describe('ReviewBytes', () => {
  it('answers each result with its own review, never another equal-looking one', () => {
    const bytes = new ReviewBytes();
    const results = [success('alice'), success('alice', ['https://other']), success('bob')];
    for (let round = 0; round < 2; round++) {
      for (const r of results) {
        expect(answer(bytes.get(V1, r, ['https://requested']))).toEqual(encodeTokenReview(V1, r, []));
      }
    }
  });

  it('keeps one answer per API version of the same result', () => {
    const bytes = new ReviewBytes();
    const r = success('alice');
    expect(answer(bytes.get(V1, r, []))).toMatchObject({ apiVersion: V1 });
    expect(answer(bytes.get(V1BETA1, r, []))).toMatchObject({ apiVersion: V1BETA1 });
    expect(answer(bytes.get(V1, r, []))).toMatchObject({ apiVersion: V1 });
  });

  it('builds a cached result’s answer once and hands out the same bytes on every hit', () => {
    const bytes = new ReviewBytes();
    const r = success('alice');
    expect(bytes.get(V1, r, [])).toBe(bytes.get(V1, r, []));
  });

  it('gives the UTF-8 length of the text as the Content-Length, kept or not', () => {
    const bytes = new ReviewBytes();
    // Two- and three-byte characters, one outside the BMP, and one JSON escapes.
    const r = success('zoë-名前-\u{1F511}-"q"');
    for (const result of [r, { ...r }]) {
      for (let i = 0; i < 2; i++) {
        const review = bytes.get(V1, result, []);
        expect(review.status).toBe(200);
        expect(review.text).toBe(JSON.stringify(encodeTokenReview(V1, result, [])));
        expect(review.contentLength).toBe(String(new TextEncoder().encode(review.text).length));
      }
    }
  });

  it('builds no bytes for a result the token cache does not keep (an unfrozen one, a miss)', () => {
    const bytes = new ReviewBytes();
    const r: AuthnSuccess = { ...success('alice') };
    const first = bytes.get(V1, r, []);
    const second = bytes.get(V1, r, []);
    expect(second).not.toBe(first);
    expect(answer(second)).toEqual(encodeTokenReview(V1, r, []));
  });

  it('answers a result without audiences of its own with each request’s audiences', () => {
    const bytes = new ReviewBytes();
    const r = success('alice', []);
    expect(answer(bytes.get(V1, r, ['https://a']))).toMatchObject({ status: { audiences: ['https://a'] } });
    expect(answer(bytes.get(V1, r, ['https://b']))).toMatchObject({ status: { audiences: ['https://b'] } });
  });

  it('answers a rejection as the review encoder does', () => {
    const bytes = new ReviewBytes();
    const r: AuthnResult = NO_OPINION;
    expect(answer(bytes.get(V1, r, ['https://a']))).toEqual(encodeTokenReview(V1, r, ['https://a']));
  });

  it('stays within its bound and still answers an evicted result correctly', () => {
    const bytes = new ReviewBytes(2);
    const results = ['a', 'b', 'c', 'd'].map((u) => success(u));
    for (const r of results) bytes.get(V1, r, []);
    for (const r of results) expect(answer(bytes.get(V1, r, []))).toEqual(encodeTokenReview(V1, r, []));
  });
});
