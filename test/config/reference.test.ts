import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configurationReference } from '../../src/config/reference.js';

describe('configuration reference', () => {
  it('docs/configuration.md is the one generated from the option table (run `npm run docs` after changing flags)', () => {
    const onDisk = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(configurationReference());
  });
});
