import { describe, expect, it } from 'vitest';
import { checkAudiences } from '../../src/authn/audiences.js';

function audiences(token: string[], requested: string[], implicit: string[]) {
  const r = checkAudiences(token, requested, implicit);
  return r.ok ? r.audiences : r.error.message;
}

describe('checkAudiences', () => {
  it('returns the requested audiences the token holds', () => {
    expect(audiences(['api'], ['api'], ['api'])).toEqual(['api']);
  });

  it('keeps the requested order, not the token order', () => {
    expect(audiences(['x', 'y', 'z'], ['z', 'nope', 'x'], ['x'])).toEqual(['z', 'x']);
  });

  it('keeps duplicates of the request', () => {
    expect(audiences(['a'], ['a', 'a'], ['a'])).toEqual(['a', 'a']);
  });

  it('checks the implicit audiences when none are requested', () => {
    expect(audiences(['https://issuer', 'vault'], [], ['https://issuer'])).toEqual(['https://issuer']);
    expect(audiences(['vault'], [], ['https://a', 'https://b'])).toBe(
      'token audiences ["vault"] is invalid for the target audiences ["https://a" "https://b"]',
    );
  });

  it('treats a token without aud as holding the implicit audiences (legacy)', () => {
    expect(audiences([], [], ['https://issuer'])).toEqual(['https://issuer']);
    expect(audiences([], ['vault'], ['https://issuer'])).toBe(
      'token audiences ["https://issuer"] is invalid for the target audiences ["vault"]',
    );
  });

  it("rejects a token whose audience is not requested, with kube's text", () => {
    const r = checkAudiences(['a'], ['x'], ['x']);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('ERR_TOKEN_AUDIENCE');
      expect(r.error.message).toBe('token audiences ["a"] is invalid for the target audiences ["x"]');
    }
    expect(audiences(['istio-ca', 'b'], ['https://kubernetes.default.svc', 'y'], ['z'])).toBe(
      'token audiences ["istio-ca" "b"] is invalid for the target audiences ["https://kubernetes.default.svc" "y"]',
    );
  });

  it('compares audiences exactly: no case folding, trimming or slash normalisation', () => {
    for (const near of ['API', 'api ', 'api/', ' api']) {
      expect(audiences([near], ['api'], ['api'])).toMatch(/is invalid for the target audiences/);
    }
  });

  it('never fails when there are no implicit audiences at all, as kube', () => {
    expect(audiences(['a'], ['x'], [])).toEqual([]);
  });
});
