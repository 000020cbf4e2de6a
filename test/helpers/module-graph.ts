import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { BIN, REPO_ROOT, finished, requireBuiltBin } from './cli.js';
import { tempDir, writeFile } from './files.js';

/**
 * A preload that records every module URL the ESM loader resolves (a resolve hook on the
 * loader's own thread, reporting over a port) and prints them as JSON when the process exits.
 */
const RECORDER = `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const urls = [];
port1.on('message', (url) => urls.push(url));
port1.unref();
const hook = 'let port; export function initialize(d) { port = d.port; } ' +
  'export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }';
register('data:text/javascript,' + encodeURIComponent(hook), { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] });
process.on('exit', () => process.stderr.write('RESOLVED ' + JSON.stringify(urls) + '\\n'));
`;

/** Every module URL the built CLI resolves when run with `args`. */
export async function resolvedBy(args: readonly string[]): Promise<string[]> {
  requireBuiltBin();
  const recorder = writeFile(tempDir(), 'recorder.mjs', RECORDER);
  const child = spawn(process.execPath, ['--import', pathToFileURL(recorder).href, BIN, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { stderr } = await finished(child);
  const line = stderr.split('\n').find((l) => l.startsWith('RESOLVED '));
  if (!line) throw new Error(`no record of resolved modules: ${stderr}`);
  return JSON.parse(line.slice('RESOLVED '.length)) as string[];
}
