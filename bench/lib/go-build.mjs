// The bench's Go programs (the paced generator, the Go ceiling), each built with `go build`
// on first use into the bench cache directory, keyed by its source's hash.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from './setup.mjs';

export function hasGo() {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The binary of the Go program in bench/<dir>/ (main.go, go.mod), built if missing. */
export function goBinary(dir) {
  const srcDir = fileURLToPath(new URL(`../${dir}/`, import.meta.url));
  const hash = createHash('sha256')
    .update(readFileSync(join(srcDir, 'main.go')))
    .update(readFileSync(join(srcDir, 'go.mod')))
    .digest('hex')
    .slice(0, 12);
  const bin = join(cacheDir, `${dir.replaceAll('/', '-')}-${hash}`);
  if (!existsSync(bin)) {
    mkdirSync(cacheDir, { recursive: true });
    execFileSync('go', ['build', '-o', bin, '.'], {
      cwd: srcDir,
      stdio: 'inherit',
      env: { ...process.env, CGO_ENABLED: '0' },
    });
  }
  return bin;
}
