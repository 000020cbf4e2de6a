import { stringify } from 'yaml';
import { UsageError } from './usage.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

/** `-o json|yaml`, as kubectl spells them; no flag, the table. */
export function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined) return 'table';
  if (value === 'json' || value === 'yaml') return value;
  throw new UsageError(
    `-o/--output: unable to match a printer suitable for the output format ${JSON.stringify(value)}, allowed formats are: json,yaml`,
  );
}

/** An object as kubectl prints it with `-o json` (four-space indent) or `-o yaml`. */
export function formatObject(format: 'json' | 'yaml', value: unknown): string {
  return format === 'json' ? `${JSON.stringify(value, null, 4)}\n` : stringify(value);
}

/** kubectl's warnings on stderr (`Warning: ` and the text; see resource-names.ts for the blank line). */
export function printWarnings(warnings: readonly string[]): void {
  for (const w of warnings) process.stderr.write(`Warning: ${w}\n`);
}
