import { readFileSync } from 'node:fs';

/**
 * The package version, read once from the package.json beside `src/` and `dist/` (the image
 * and npm package both ship it), so `--version` and `tokenwarden_build_info` cannot disagree.
 */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
