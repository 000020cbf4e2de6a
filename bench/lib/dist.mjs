// Where the built tokenwarden is: the repo's dist/ (what `npm run bench` builds), or
// TOKENWARDEN_DIST=/path/to/dist to measure another build (e.g. a snapshot of one commit
// built outside a work tree that others are editing).
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const distDir = process.env.TOKENWARDEN_DIST
  ? resolve(process.env.TOKENWARDEN_DIST)
  : fileURLToPath(new URL('../../dist/', import.meta.url));

export const distFile = (rel) => resolve(distDir, rel);
export const importDist = (rel) => import(pathToFileURL(distFile(rel)).href);
