import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canI } from '../../src/cli/commands/can-i.js';
import { run } from '../authz/helpers.js';

/**
 * What the real kubectl (v1.32.4, `kubectl auth can-i ARGS --as alice`) answered against a
 * kube-apiserver v1.37.2 holding fixtures/rbac/kubectl/policy.yaml: stdout, stderr, exit code.
 */
interface Recorded {
  readonly args: readonly string[];
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const FIXTURES = new URL('../fixtures/rbac/kubectl/', import.meta.url);
const POLICY = fileURLToPath(new URL('policy.yaml', FIXTURES));
const RECORDED = JSON.parse(readFileSync(new URL('can-i.json', FIXTURES), 'utf8')) as Recorded[];

const key = (args: readonly string[]) => args.join(' ');

/** Where tokenwarden differs on purpose (docs/rbac.md): NAME may be a third argument, -o works with --list. */
const DIFFERENT = new Set(['get pods extra', '--list -o json']);

/** kubectl's usage errors (its exit 1 is tokenwarden's 2), by the texts both print. */
const USAGE = RECORDED.filter((r) => r.stderr.startsWith('error: ') && !DIFFERENT.has(key(r.args)));
const ANSWERS = RECORDED.filter(
  (r) => !r.stderr.startsWith('error: ') && !r.stderr.startsWith('Error: ') && !DIFFERENT.has(key(r.args)),
);

describe('tokenwarden can-i next to the real kubectl auth can-i', () => {
  it('has recorded answers to compare with', () => {
    expect(ANSWERS.length).toBeGreaterThan(70);
    expect(USAGE.length).toBeGreaterThan(5);
  });

  it.each(ANSWERS.map((r) => [key(r.args), r] as const))(
    "answers `can-i %s` with kubectl's stdout, warnings and exit code",
    async (_, recorded) => {
      const ours = await run(canI, [...recorded.args, '--as', 'alice', '--policy', POLICY]);
      expect(ours).toEqual({ code: recorded.code, stdout: recorded.stdout, stderr: recorded.stderr });
    },
  );

  it.each(
    USAGE.filter((r) => !r.stderr.includes('you must specify two arguments')).map(
      (r) => [key(r.args), r] as const,
    ),
  )("refuses `can-i %s` with kubectl's message", async (_, recorded) => {
    const message = recorded.stderr.slice('error: '.length).trimEnd();
    await expect(run(canI, [...recorded.args, '--as', 'alice', '--policy', POLICY])).rejects.toThrow(message);
  });
});
