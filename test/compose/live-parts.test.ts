import { describe, expect, it } from 'vitest';
import { resolvedBy } from '../helpers/module-graph.js';

describe('live mode parts', () => {
  it("are not in serve's static module graph: @kubernetes/client-node loads only when live mode is composed", async () => {
    const urls = await resolvedBy(['serve', '--help']);
    // The recorder saw the graph: the command and what it imports.
    expect(urls.some((u) => u.endsWith('/dist/cli/commands/serve.js'))).toBe(true);
    expect(urls.some((u) => u.endsWith('/dist/compose/live-parts.js'))).toBe(true);
    expect(urls.filter((u) => u.includes('@kubernetes/client-node') || u.includes('/dist/live/'))).toEqual(
      [],
    );
  });
});
