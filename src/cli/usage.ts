/**
 * A problem with how the command was invoked or configured (unknown flag, unreadable
 * file, invalid config field). `cli/main.ts` prints the message, which names the flag,
 * file or field, and exits 2.
 */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** A CLI command: takes the arguments after its name, returns the exit code. Throws UsageError for exit 2. */
export type Command = (argv: readonly string[]) => Promise<number>;
