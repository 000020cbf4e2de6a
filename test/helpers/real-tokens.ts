import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Two real service-account tokens captured from public clusters (their keys are unknown, so they can only be
 * refused). They are public data, kept in `test/fixtures/tokens/` so a clone needs nothing beside it.
 */
export const REAL_TOKENS_DIR = fileURLToPath(new URL('../fixtures/tokens/', import.meta.url));

/** A real token, trimmed of its trailing newline. */
export function realToken(name: 'legacy-secret-token.jwt' | 'projected-istio-ca-token.jwt'): string {
  return readFileSync(`${REAL_TOKENS_DIR}${name}`, 'utf8').trim();
}
