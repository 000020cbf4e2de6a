import { describe, expect, it } from 'vitest';
import { generateRequestId, requestIdOf } from '../../src/http/request-id.js';

describe('request ids', () => {
  it("takes a client's id that is short and made of safe characters", () => {
    for (const id of [
      'f47ac10b-58cc-4372-a567-0e02b2c3d479',
      '1-67891233-abcdef012345678912345678',
      'trace:abc/def+ghi=@x.y_z',
      'a'.repeat(128),
    ]) {
      expect(requestIdOf(id)).toBe(id);
    }
  });

  it('replaces an id that is too long, empty, repeated or holds unsafe characters with a generated one', () => {
    for (const header of [
      'a'.repeat(129),
      '',
      'two words',
      'a, b',
      'quote"d',
      'new\nline',
      'tab\tbed',
      'über',
      '<script>',
      ['one', 'two'],
      undefined,
    ]) {
      const id = requestIdOf(header);
      expect(id).not.toBe(header);
      expect(id).toMatch(/^[A-Za-z0-9_-]{8}-[0-9a-z]+$/);
    }
  });

  it('never generates the same id twice in a process', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => generateRequestId()));
    expect(ids.size).toBe(1000);
  });
});
