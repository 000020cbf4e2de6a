import { describe, expect, it } from 'vitest';
import { resolvedBy } from '../helpers/module-graph.js';

describe('--authentication-config parts', () => {
  it("are not in serve's static module graph: the CEL interpreter loads only when the flag is given", async () => {
    const urls = await resolvedBy(['serve', '--help']);
    expect(urls.some((u) => u.endsWith('/dist/compose/oidc-parts.js'))).toBe(true);
    expect(
      urls.filter(
        (u) =>
          u.includes('/node_modules/@bufbuild/') ||
          u.includes('/dist/cel/') ||
          u.endsWith('/dist/compose/oidc.js') ||
          u.includes('/dist/authn/oidc/'),
      ),
    ).toEqual([]);
  });
});
