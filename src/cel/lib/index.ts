/**
 * The CEL libraries of kube-apiserver's base environment that @bufbuild/cel lacks, as
 * @bufbuild/cel functions: add `lib.funcs` to the environment's funcs and `lib.results` to
 * the checker's result types.
 */
import { cidrLibrary } from './cidr.js';
import { extListsLibrary } from './ext-lists.js';
import { formatLibrary } from './format.js';
import { ipLibrary } from './ip.js';
import type { CelLibrary } from './library.js';
import { listsLibrary } from './lists.js';
import { quantityLibrary } from './quantity.js';
import { regexLibrary } from './regex.js';
import { semverLibrary } from './semver.js';
import { setsLibrary } from './sets.js';
import { urlsLibrary } from './urls.js';

export type { CelLibrary, StaticType } from './library.js';
export { regexError } from './regex.js';

export const kubeLibraries: readonly CelLibrary[] = Object.freeze([
  setsLibrary,
  listsLibrary,
  extListsLibrary,
  regexLibrary,
  urlsLibrary,
  ipLibrary,
  cidrLibrary,
  semverLibrary,
  quantityLibrary,
  formatLibrary,
]);
