import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../../src/http/json-depth.js';
import { SentTokens } from '../helpers/logs.js';
import { reviewPath, startTestServer, type TestServer } from '../helpers/server.js';
import { boundClaims, mintToken } from '../helpers/tokens.js';

const nest = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);

describe('nestedDeeperThan', () => {
  it('counts arrays and objects inside one another, up to the limit', () => {
    expect(nestedDeeperThan(nest(3), 3)).toBe(false);
    expect(nestedDeeperThan(nest(4), 3)).toBe(true);
    expect(nestedDeeperThan('{"a":{"b":[{}]}}', 4)).toBe(false);
    expect(nestedDeeperThan('{"a":{"b":[{}]}}', 3)).toBe(true);
    // Siblings do not add up: depth is how far in, not how many.
    expect(nestedDeeperThan('[[1],[2],[3],[4]]', 2)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(nestedDeeperThan('["[[[[", "\\"[[[[", "{{{{\\\\"]', 1)).toBe(false);
    expect(nestedDeeperThan('["\\\\", [[1]]]', 2)).toBe(true);
  });

  it("uses Go's encoding/json limit by default", () => {
    expect(MAX_JSON_DEPTH).toBe(10_000);
    expect(nestedDeeperThan(nest(10_000))).toBe(false);
    expect(nestedDeeperThan(nest(10_001))).toBe(true);
  });
});

describe('a review body nested too deeply', () => {
  let server: TestServer;
  const sent = new SentTokens();
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const send = (body: string) =>
    server.request({
      method: 'POST',
      path: reviewPath(),
      headers: { 'content-type': 'application/json' },
      body,
    });
  const review = (token: string, extra: string) =>
    `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"${token}"},"x":${extra}}`;

  it('is refused with 400 before it is parsed, as kube-apiserver refuses it', async () => {
    const token = sent.add(mintToken({ claims: boundClaims({}, Math.floor(Date.now() / 1000)) }));
    const res = await send(review(token, nest(MAX_JSON_DEPTH)));
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({
      kind: 'Status',
      reason: 'BadRequest',
      message: 'the request body is nested too deeply',
    });
    expect(sent.leaksIn(res.body)).toEqual([]);
  });

  it('is answered when it is at the limit, or when its brackets are inside strings', async () => {
    const token = sent.add(mintToken({ claims: boundClaims({}, Math.floor(Date.now() / 1000)) }));
    for (const extra of [nest(MAX_JSON_DEPTH - 2), JSON.stringify('['.repeat(MAX_JSON_DEPTH + 1))]) {
      const res = await send(review(token, extra));
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ status: { authenticated: true } });
    }
  });
});
