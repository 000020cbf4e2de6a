import { describe, expect, it } from 'vitest';
import { onDemand } from '../../src/compose/on-demand.js';

describe('a part loaded on demand', () => {
  it('is imported once however often it is loaded, and read synchronously after', async () => {
    let imports = 0;
    const part = onDemand(async () => ({ n: ++imports }), 'the part');
    const first = await part.load();
    expect(await part.load()).toBe(first);
    expect(part.get()).toBe(first);
    expect(imports).toBe(1);
  });

  it('refuses to be read before it is loaded, naming the part', () => {
    const part = onDemand(async () => ({}), '--some-flag');
    expect(() => part.get()).toThrow('--some-flag composed before its parts were loaded');
  });
});
