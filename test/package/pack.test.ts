import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suiteDir, writeFile } from '../helpers/files.js';
import { rsaKey } from '../helpers/keys.js';
import { liveToken } from '../helpers/proxy.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * A lockfile for a scratch app depending on the packed tarball, with tokenwarden's runtime
 * dependencies pinned as this repository pins them: `npm ci --offline` then installs from
 * npm's cache alone (no registry metadata is needed), as a user's install would resolve.
 */
function scratchLockfile(tarball: string): object {
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as {
    packages: Record<
      string,
      { dev?: boolean; devOptional?: boolean; link?: boolean; dependencies?: object; engines?: object }
    >;
  };
  const root = lock.packages['']!;
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const packages: Record<string, unknown> = {
    '': { name: 'scratch', dependencies: { tokenwarden: `file:${tarball}` } },
    'node_modules/tokenwarden': {
      version: '0.1.0',
      resolved: `file:${tarball}`,
      integrity,
      dependencies: root.dependencies,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev || entry.devOptional || entry.link) continue;
    packages[path] = entry;
  }
  return { name: 'scratch', lockfileVersion: 3, requires: true, packages };
}

describe('the packed package in a scratch app', () => {
  let app: string;
  let remove: () => void;

  beforeAll(() => {
    if (!existsSync(join(repo, 'dist/index.js')))
      throw new Error('dist/ is missing: run npm run build first (npm test does)');
    ({ dir: app, remove } = suiteDir('tokenwarden-scratch-'));
    npm(['pack', '--pack-destination', app], repo);
    const tarball = join(
      app,
      readdirSync(app).find((f) => f.endsWith('.tgz'))!,
    );
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'scratch',
        private: true,
        type: 'module',
        dependencies: { tokenwarden: `file:${tarball}` },
      }),
    );
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify(scratchLockfile(tarball)));
    npm(['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], app);
    for (const example of ['hono-app.mjs', 'projected-token.mjs', 'verify.mjs'])
      copyFileSync(join(repo, 'examples', example), join(app, example));
  }, 180_000);
  afterAll(() => remove?.());

  it('exports only what package.json lists, with types', () => {
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules/tokenwarden/package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    expect(Object.keys(pkg.exports)).toEqual([
      '.',
      './hono',
      './projected-token',
      './verifier',
      './package.json',
    ]);
    writeFileSync(
      join(app, 'types.ts'),
      `import { createTokenVerifier, type UserInfo } from 'tokenwarden';
import { tokenwardenAuth } from 'tokenwarden/hono';
import { createProjectedTokenSource, type ProjectedTokenSource } from 'tokenwarden/projected-token';
import { Hono } from 'hono';
const verifier = createTokenVerifier({ issuers: ['https://x'], keyFiles: ['k'] });
const app = new Hono();
app.use(tokenwardenAuth({ verifier, audiences: ['a'] }));
app.get('/', (c) => { const who: UserInfo = c.get('identity'); return c.text(who.username); });
const source: ProjectedTokenSource = createProjectedTokenSource('/t');
const token: string = source.token();
export { token };
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          noEmit: true,
          skipLibCheck: false,
          typeRoots: [join(repo, 'node_modules/@types')],
          types: ['node'],
        },
        files: ['types.ts'],
      }),
    );
    execFileSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', app], {
      encoding: 'utf8',
    });
  }, 120_000);

  it('runs the examples: the Hono app admits a valid token, the verifier and the projected token source work', async () => {
    const keyFile = writeFile(app, 'sa.pub', rsaKey().publicPem);
    const tokenFile = writeFile(app, 'token', liveToken());
    const env = {
      ...process.env,
      KEY_FILE: keyFile,
      TOKEN_FILE: tokenFile,
      ISSUER: 'https://kubernetes.default.svc.cluster.local',
    };

    const verified = execFileSync(process.execPath, ['verify.mjs'], { cwd: app, env, encoding: 'utf8' });
    expect(JSON.parse(verified)).toEqual({ user: 'system:serviceaccount:ns1:app' });

    const server = spawn(process.execPath, ['hono-app.mjs'], {
      cwd: app,
      env: { ...env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        server.stdout!.on('data', (c: Buffer) => {
          const m = /listening on (\d+)/.exec(c.toString());
          if (m) resolve(Number(m[1]));
        });
        server.once('exit', (code) => reject(new Error(`hono-app exited with ${code}`)));
      });
      const called = execFileSync(process.execPath, ['projected-token.mjs'], {
        cwd: app,
        env: { ...env, TARGET: `http://127.0.0.1:${port}/api/whoami` },
        encoding: 'utf8',
      });
      expect(called.trim()).toBe(
        '200 {"user":"system:serviceaccount:ns1:app","groups":["system:serviceaccounts","system:serviceaccounts:ns1","system:authenticated"]}',
      );
      const anonymous = await fetch(`http://127.0.0.1:${port}/api/whoami`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    } finally {
      server.kill('SIGTERM');
    }
  }, 60_000);
});
