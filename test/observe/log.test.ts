import { describe, expect, it } from 'vitest';
import { captureLogs } from '../helpers/logs.js';
import { mintToken } from '../helpers/tokens.js';

describe('createLogger', () => {
  it('redacts every path a token could sit at, as a second line of defence', () => {
    const token = mintToken();
    const logs = captureLogs('info');
    logs.logger.info({ token }, 'a');
    logs.logger.info({ spec: { token } }, 'b');
    logs.logger.info({ body: { spec: { token } } }, 'c');
    logs.logger.info(
      { req: { headers: { authorization: `Bearer ${token}`, 'proxy-authorization': token, cookie: token } } },
      'd',
    );
    logs.logger.info({ headers: { authorization: `Bearer ${token}` } }, 'e');
    logs.logger.info({ review: { token } }, 'f');
    expect(logs.lines.map((l) => l.msg)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(logs.text()).not.toContain(token.split('.')[1]);
    expect(logs.text()).toContain('[REDACTED]');
  });

  it('writes JSON lines with the service name and honours the level', () => {
    const logs = captureLogs('warn');
    logs.logger.info('hidden');
    logs.logger.warn({ n: 1 }, 'shown');
    expect(logs.lines).toEqual([
      expect.objectContaining({ service: 'tokenwarden', msg: 'shown', n: 1, level: 40 }),
    ]);
  });
});
