import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from 'pino';
import type { Attributes } from '../../src/authz/authorizer.js';
import { CallerAccessLog, ProxyAccessLog, ReviewAccessLog } from '../../src/observe/access-log.js';
import { captureLogs } from '../helpers/logs.js';
import { mintToken } from '../helpers/tokens.js';

/** Values that take every escaping path of JSON (and of pino's own string quoting, which differs on some). */
const AWKWARD = [
  'plain',
  '',
  'a "quote"',
  'a back\\slash',
  'line\nbreak\ttab\u0000nul\u001f',
  'ünïcödé ✓ 🔑',
  'lone \ud800 surrogate',
  'separators \u2028 \u2029 and del \u007f',
  'x'.repeat(101),
  '</script>',
];
const NUMBERS = [0, 0.1234567890123, 12, 1e21, 5e-7, Number.NaN, Number.POSITIVE_INFINITY];

const resourceAsk = (username: string, value: string): Attributes => ({
  user: { username, groups: ['a', 'b', value], extra: {} },
  verb: value,
  resourceRequest: true,
  namespace: value,
  apiGroup: value,
  apiVersion: 'v1',
  resource: value,
  subresource: '',
  name: value,
  path: '/never/written',
});
const pathAsk = (username: string, value: string): Attributes => ({
  ...resourceAsk(username, value),
  resourceRequest: false,
  path: value,
});
/** What the call sites handed pino of a resource request's attributes, in their order. */
const resourceFields = (a: Attributes) => ({
  verb: a.verb,
  namespace: a.namespace,
  apiGroup: a.apiGroup,
  resource: a.resource,
  subresource: a.subresource,
  name: a.name,
});

/**
 * Each case writes one line as the call sites wrote it with pino (`logger.info(fields, msg)`
 * on the route's child logger) and once through the access log, with the same values.
 */
interface Case {
  readonly name: string;
  pino(logger: Logger, v: string, n: number): void;
  access(logger: Logger, v: string, n: number): void;
}

const CASES: Case[] = [
  {
    name: 'tokenreview authenticated',
    pino: (l, v, n) =>
      l
        .child({ route: 'tokenreviews/v1' })
        .info(
          { reqId: v, caller: v, decision: 'authenticated', reason: 'ok', user: v, ms: n },
          'tokenreview',
        ),
    access: (l, v, n) =>
      new ReviewAccessLog(l, 'tokenreviews/v1', 'tokenreview').token(v, v, 'authenticated', 'ok', v, n),
  },
  {
    name: 'tokenreview rejected, no caller',
    pino: (l, v, n) =>
      l
        .child({ route: 'tokenreviews/v1beta1' })
        .info({ reqId: v, caller: undefined, decision: 'rejected', reason: v, ms: n }, 'tokenreview'),
    access: (l, v, n) =>
      new ReviewAccessLog(l, 'tokenreviews/v1beta1', 'tokenreview').token(
        v,
        undefined,
        'rejected',
        v,
        undefined,
        n,
      ),
  },
  {
    name: 'refused with a reason',
    pino: (l, v, n) =>
      l
        .child({ route: 'tokenreviews/v1' })
        .info({ reqId: v, caller: v, decision: 'invalid', reason: v, code: 413, ms: n }, 'tokenreview'),
    access: (l, v, n) => new ReviewAccessLog(l, 'tokenreviews/v1', 'tokenreview').refused(v, v, v, 413, n),
  },
  {
    name: 'refused without a reason',
    pino: (l, v, n) =>
      l
        .child({ route: 'selfsubjectaccessreviews/v1' })
        .info(
          { reqId: undefined, caller: v, decision: 'invalid', reason: undefined, code: 401, ms: n },
          'selfsubjectaccessreview',
        ),
    access: (l, v, n) =>
      new ReviewAccessLog(l, 'selfsubjectaccessreviews/v1', 'selfsubjectaccessreview').refused(
        undefined,
        v,
        undefined,
        401,
        n,
      ),
  },
  ...(['subjectaccessreview', 'localsubjectaccessreview'] as const).map((review): Case => ({
    name: `${review} of a resource, with the authorizer's reason`,
    pino: (l, v, n) => {
      const a = resourceAsk(v, v);
      l.child({ route: `${review}s/v1` }).info(
        {
          reqId: v,
          caller: v,
          decision: 'allowed',
          reason: 'allow',
          user: a.user.username,
          groups: a.user.groups.length,
          ...resourceFields(a),
          ...(v === '' ? {} : { authzReason: v }),
          ms: n,
        },
        review,
      );
    },
    access: (l, v, n) =>
      new ReviewAccessLog(l, `${review}s/v1`, review).access(
        v,
        v,
        'allowed',
        'allow',
        resourceAsk(v, v),
        v,
        n,
      ),
  })),
  {
    name: 'subjectaccessreview of a path, no authorizer reason',
    pino: (l, v, n) => {
      const a = pathAsk(v, v);
      l.child({ route: 'subjectaccessreviews/v1beta1' }).info(
        {
          reqId: v,
          caller: undefined,
          decision: 'denied',
          reason: 'no-opinion',
          user: a.user.username,
          groups: a.user.groups.length,
          verb: a.verb,
          path: a.path,
          ms: n,
        },
        'subjectaccessreview',
      );
    },
    access: (l, v, n) =>
      new ReviewAccessLog(l, 'subjectaccessreviews/v1beta1', 'subjectaccessreview').access(
        v,
        undefined,
        'denied',
        'no-opinion',
        pathAsk(v, v),
        '',
        n,
      ),
  },
  ...([resourceAsk, pathAsk] as const).map((ask): Case => ({
    name: `proxy request ${ask === resourceAsk ? 'of a resource' : 'of a path'}, impersonating`,
    pino: (l, v, n) => {
      const a = ask(v, v);
      l.info(
        {
          reqId: v,
          caller: v,
          method: v,
          path: v,
          decision: 'denied',
          reason: v,
          denial: v,
          user: a.user.username,
          groups: a.user.groups.length,
          impersonator: v,
          ...(a.resourceRequest ? resourceFields(a) : { verb: a.verb, nonResourcePath: a.path }),
          ms: n,
        },
        'request',
      );
    },
    access: (l, v, n) => {
      const a = ask(v, v);
      new ProxyAccessLog(l).request(v, v, v, v, 'denied', v, v, a.user, v, a, n);
    },
  })),
  {
    name: 'proxy request before anyone is known',
    pino: (l, v, n) =>
      l.info(
        { reqId: undefined, caller: v, method: v, path: undefined, decision: 'allowed', reason: v, ms: n },
        'request',
      ),
    access: (l, v, n) =>
      new ProxyAccessLog(l).request(
        undefined,
        v,
        v,
        undefined,
        'allowed',
        v,
        undefined,
        undefined,
        undefined,
        undefined,
        n,
      ),
  },
  {
    name: 'caller not authenticated',
    pino: (l, v) =>
      l.info(
        { reqId: v, target: v, caller: undefined, decision: 'denied', reason: v, code: 401 },
        'caller not authenticated',
      ),
    access: (l, v) => new CallerAccessLog(l).notAuthenticated(v, v, undefined, v),
  },
  {
    name: 'caller not allowed',
    pino: (l, v) =>
      l.info(
        { reqId: v, target: v, caller: v, decision: 'denied', reason: v, code: 403 },
        'caller not allowed',
      ),
    access: (l, v) => new CallerAccessLog(l).notAllowed(v, v, v, v),
  },
];

describe('access log', () => {
  beforeEach(() => {
    vi.spyOn(Date, 'now').mockReturnValue(1_765_000_000_123);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  for (const c of CASES) {
    it(`writes a ${c.name} line byte for byte as pino writes it, on a worker's logger too`, () => {
      for (const worker of [undefined, 2]) {
        const logs = captureLogs('info');
        const logger = worker === undefined ? logs.logger : logs.logger.child({ worker });
        for (const v of AWKWARD) {
          for (const n of NUMBERS) {
            const start = logs.text().length;
            c.pino(logger, v, n);
            const middle = logs.text().length;
            c.access(logger, v, n);
            const text = logs.text();
            expect(text.slice(middle)).toBe(text.slice(start, middle));
          }
        }
        expect(logs.lines).toHaveLength(2 * AWKWARD.length * NUMBERS.length);
      }
    });
  }

  it('writes each of many lines from one log with its own caller and reason, repeated or changed, as pino does', () => {
    const logs = captureLogs('info');
    const tokens = new ReviewAccessLog(logs.logger, 'tokenreviews/v1', 'tokenreview');
    const access = new ReviewAccessLog(logs.logger, 'subjectaccessreviews/v1', 'subjectaccessreview');
    const values = [undefined, 'a', 'a', 'b', undefined, undefined, ...AWKWARD, 'a "quote"', 'plain', 'a'];
    let i = 0;
    for (const caller of values) {
      // The reasons run out of step with the callers, so that both repeat and change on different lines.
      const reason = AWKWARD[i++ % 3]!;
      const start = logs.text().length;
      logs.logger
        .child({ route: 'tokenreviews/v1' })
        .info({ reqId: 'r', caller, decision: 'authenticated', reason, user: 'u', ms: 1 }, 'tokenreview');
      logs.logger.child({ route: 'subjectaccessreviews/v1' }).info(
        {
          reqId: 'r',
          caller,
          decision: 'allowed',
          reason,
          user: 'u',
          groups: 3,
          ...resourceFields(resourceAsk('u', 'x')),
          ms: 1,
        },
        'subjectaccessreview',
      );
      const middle = logs.text().length;
      tokens.token('r', caller, 'authenticated', reason, 'u', 1);
      access.access('r', caller, 'allowed', reason, resourceAsk('u', 'x'), '', 1);
      const text = logs.text();
      expect(text.slice(middle)).toBe(text.slice(start, middle));
    }
    expect(logs.lines).toHaveLength(4 * values.length);
  });

  it('writes nothing when the level is above info, as logger.info does', () => {
    const logs = captureLogs('warn');
    for (const c of CASES) c.access(logs.logger, 'x', 1);
    expect(logs.text()).toBe('');
  });

  it("writes to the logger's own destination, in order with its other lines", () => {
    const logs = captureLogs('info');
    const access = new ReviewAccessLog(logs.logger, 'tokenreviews/v1', 'tokenreview');
    logs.logger.info('before');
    access.token('r1', 'c', 'authenticated', 'ok', 'alice', 1);
    logs.logger.warn('after');
    expect(logs.lines.map((l) => [l.msg, l.reqId])).toEqual([
      ['before', undefined],
      ['tokenreview', 'r1'],
      ['after', undefined],
    ]);
  });

  it("writes each line with the clock's millisecond at that line, as pino does while the clock moves", () => {
    const logs = captureLogs('info');
    const access = new ReviewAccessLog(logs.logger, 'tokenreviews/v1', 'tokenreview');
    const clock = vi.spyOn(Date, 'now');
    for (const now of [
      1_765_000_000_123, 1_765_000_000_123, 1_765_000_000_124, 1_765_000_009_999, 1_765_000_000_123,
    ]) {
      clock.mockReturnValue(now);
      const start = logs.text().length;
      logs.logger
        .child({ route: 'tokenreviews/v1' })
        .info({ reqId: 'r', decision: 'authenticated', reason: 'ok', user: 'u', ms: 0.5 }, 'tokenreview');
      const middle = logs.text().length;
      access.token('r', undefined, 'authenticated', 'ok', 'u', 0.5);
      const text = logs.text();
      expect(text.slice(middle)).toBe(text.slice(start, middle));
      expect(JSON.parse(text.slice(middle)).time).toBe(now);
    }
  });

  it('keeps a token given for a field nobody named out of the line', () => {
    const token = mintToken();
    const logs = captureLogs('info');
    const ask = { ...resourceAsk('alice', 'pods'), token, spec: { token } } as Attributes;
    new ReviewAccessLog(logs.logger, 'subjectaccessreviews/v1', 'subjectaccessreview').access(
      'r',
      'c',
      'allowed',
      'allow',
      ask,
      '',
      1,
    );
    expect(logs.lines).toHaveLength(1);
    expect(logs.text()).not.toContain(token.split('.')[1]);
  });
});
