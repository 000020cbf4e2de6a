import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * `shared/fixtures/` sits next to the repository (CI clones the repo beside a copy of
 * shared/): `../shared/fixtures` from the repo root.
 */
export const SHARED_FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));

/**
 * A real token captured from a cluster, trimmed of its trailing newline. A missing file
 * fails the test with a message saying where it was looked for: these tests are never skipped.
 */
export function sharedToken(name: 'legacy-secret-token.jwt' | 'projected-istio-ca-token.jwt'): string {
  const path = `${SHARED_FIXTURES}${name}`;
  if (!existsSync(path)) {
    throw new Error(
      `shared fixture ${name} not found at ${path}: the tests expect a copy of shared/ next to the repository (../shared/fixtures from the repo root)`,
    );
  }
  return readFileSync(path, 'utf8').trim();
}
