import { describe, expect, it } from 'vitest';
import { badGateway, denied, forbiddenText, unauthorized } from '../../src/api/outcomes.js';

describe('denied (a sidecar gate refusal as HTTP)', () => {
  it('answers a missing credential 401 with a bare Bearer challenge, and a refused token with invalid_token', () => {
    expect(denied({ kind: 'unauthenticated', tokenGiven: false })).toEqual(
      unauthorized({ invalidToken: false }),
    );
    expect(denied({ kind: 'unauthenticated', tokenGiven: false }).headers).toEqual({
      'WWW-Authenticate': 'Bearer',
    });
    expect(denied({ kind: 'unauthenticated', tokenGiven: true }).headers).toEqual({
      'WWW-Authenticate': 'Bearer error="invalid_token"',
    });
  });

  it('maps each refusal to its status and a Status body holding its text', () => {
    const cases = [
      [{ kind: 'bad-request', message: 'bad path' }, 400, 'BadRequest'],
      [{ kind: 'forbidden', message: 'Forbidden (user=u)' }, 403, 'Forbidden'],
      [{ kind: 'error', message: 'authorization error' }, 500, 'InternalError'],
    ] as const;
    for (const [denial, code, reason] of cases) {
      const answer = denied(denial);
      expect(answer.status).toBe(code);
      expect(answer.body).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: denial.message,
        reason,
        code,
      });
    }
    expect(denied({ kind: 'forbidden', message: 'x' })).toEqual(forbiddenText('x'));
  });

  it('answers an unreachable upstream 502', () => {
    expect(badGateway()).toMatchObject({
      status: 502,
      body: { code: 502, message: 'the upstream is not reachable' },
    });
  });
});
