import { readFileSync } from 'node:fs';
import { vi } from 'vitest';
import { fileURLToPath } from 'node:url';
import { nonResourceAttributes, resourceAttributes } from '../../src/authz/attributes.js';
import type { Attributes } from '../../src/authz/authorizer.js';
import { compilePolicy, type CompiledPolicy } from '../../src/authz/rbac/compile.js';
import { parsePolicy } from '../../src/authz/rbac/policy.js';

export interface RequestSpec {
  user?: string;
  groups?: readonly string[];
  verb: string;
  /** `pods`, `pods/log`, `deployments.apps/scale` (kubectl style), or a path starting with `/`. */
  resource: string;
  name?: string;
  ns?: string;
}

/** Attributes the way the SAR handler builds them: a literal user, version `*`. */
export function attrs(spec: RequestSpec): Attributes {
  const user = { username: spec.user ?? '', groups: spec.groups ?? [] };
  if (spec.resource.startsWith('/')) return nonResourceAttributes(user, spec.verb, spec.resource);
  const [resPart, subresource = ''] = spec.resource.split(/\/(.*)/s) as [string, string?];
  const dot = resPart.indexOf('.');
  return resourceAttributes(user, {
    verb: spec.verb,
    namespace: spec.ns ?? '',
    apiGroup: dot < 0 ? '' : resPart.slice(dot + 1),
    apiVersion: '*',
    resource: dot < 0 ? resPart : resPart.slice(0, dot),
    subresource,
    name: spec.name ?? '',
  });
}

export const FIXTURE_POLICY = fileURLToPath(new URL('../fixtures/rbac/policy.yaml', import.meta.url));

export function fixturePolicy(): CompiledPolicy {
  return compilePolicy(parsePolicy([{ name: 'policy.yaml', text: readFileSync(FIXTURE_POLICY, 'utf8') }]));
}

/** Compiles inline YAML documents (joined with `---`). */
export function compileYaml(...docs: string[]): CompiledPolicy {
  return compilePolicy(parsePolicy([{ name: 'inline.yaml', text: docs.join('\n---\n') }]));
}

/** Runs a CLI command with process.stdout/stderr writes captured (for test/cli). */
export async function run(
  command: (argv: readonly string[]) => Promise<number>,
  argv: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await command(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
