#!/usr/bin/env node
import { isTokenwardenError } from '../errors.js';
import { VERSION } from '../version.js';
import { UsageError, type Command } from './usage.js';

/**
 * Each command's module loads only when that command runs. A server's heap then holds only
 * what its command reaches: `serve` without the sidecar proxy's HTTP client (undici) and the
 * other commands' parts. Every module a process imports stays in its heap for life, and a
 * major GC marks all of it, on the one core a server usually has (docs/benchmarks.md).
 */
const COMMANDS: Readonly<Record<string, { load: () => Promise<Command>; summary: string }>> = {
  serve: {
    load: async () => (await import('./commands/serve.js')).serve,
    summary: 'run the TokenReview/SubjectAccessReview service',
  },
  dev: {
    load: async () => (await import('./commands/dev.js')).dev,
    summary: 'run on an ephemeral dev issuer and print a demo token (npm start)',
  },
  verify: {
    load: async () => (await import('./commands/verify.js')).verify,
    summary: 'check one token offline; exit 0 valid, 1 invalid',
  },
  jwks: {
    load: async () => (await import('./commands/jwks.js')).jwks,
    summary: 'print the JWKS of key files with kube-apiserver kids',
  },
  proxy: {
    load: async () => (await import('./commands/proxy.js')).proxy,
    summary: 'run as an authenticating sidecar proxy in front of an upstream (and /check for ext-authz)',
  },
  'can-i': {
    load: async () => (await import('./commands/can-i.js')).canI,
    summary: 'answer an RBAC question offline from policy files, as kubectl auth can-i',
  },
  'who-can': {
    load: async () => (await import('./commands/who-can.js')).whoCan,
    summary: 'list every subject the policy files allow VERB on RESOURCE, and through which binding',
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'Usage: tokenwarden <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `tokenwarden <command> --help` for the options of a command, `tokenwarden --version` for the version.',
  ].join('\n');
}

/** The one place errors become exit codes: 2 for usage and configuration, 1 for anything else. */
async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === 'version') {
    console.log(`tokenwarden ${VERSION} (Node.js ${process.version})`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(`tokenwarden: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const run = await command.load();
    return await run(rest);
  } catch (err) {
    if (err instanceof UsageError || (isTokenwardenError(err) && !err.transient)) {
      console.error(`tokenwarden ${name}: ${err.message}`);
      return 2;
    }
    // One line even for a bug: a stack trace is no message for an operator, and the code and
    // text are enough to find the failing call.
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    console.error(
      `tokenwarden ${name}: unexpected error: ${err instanceof Error ? err.message : String(err)}${code ? ` (${code})` : ''}`,
    );
    return 1;
  }
}

// Should the event loop run dry before a command settles (work waiting only on unref'd
// timers), Node would exit 0 with nothing printed: for `verify`, a silent "valid".
let settled = false;
process.once('beforeExit', () => {
  if (settled) return;
  console.error(`tokenwarden ${process.argv[2] ?? ''}: stopped before finishing (internal error)`);
  process.exit(1);
});

main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
    // Servers resolve only after shutdown; one-shot commands may hold watchers or timers open.
    setImmediate(() => process.exit(code));
  },
  () => process.exit(1),
);
