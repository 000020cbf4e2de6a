import type * as LiveModules from './live-modules.js';
import { onDemand } from './on-demand.js';

/**
 * Live mode's parts, loaded only when live mode is configured. They bring
 * @kubernetes/client-node, whose generated API modules hold ~28 MB of heap once imported
 * (their source text and compiled functions): a process serving from key files would carry
 * them for nothing, and every major GC would mark them (a full GC of the serve process went
 * from ~40 ms to single digits without them; docs/benchmarks.md).
 */
export type LiveParts = typeof LiveModules;

const parts = onDemand<LiveParts>(() => import('./live-modules.js'), 'live mode');

export const loadLiveParts = parts.load;

/** The parts, for the synchronous composition: compose() loads them first whenever live mode is configured. */
export const liveParts = parts.get;
