import type * as OidcModule from './oidc.js';
import { onDemand } from './on-demand.js';

/**
 * `--authentication-config`'s parts (JWT authenticators with CEL claim mappings), loaded only
 * when that flag is given. They bring the CEL interpreter (@bufbuild/cel, its protobuf runtime
 * and re2): ~5 MB of heap once imported, which a process without `jwt[]` issuers would carry
 * for nothing and every major GC would mark (docs/benchmarks.md).
 */
export type OidcParts = typeof OidcModule;

const parts = onDemand<OidcParts>(() => import('./oidc.js'), '--authentication-config');

export const loadOidcParts = parts.load;

/** The parts, for the synchronous composition: compose() loads them first whenever the flag is given. */
export const oidcParts = parts.get;
