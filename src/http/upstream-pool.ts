import { Pool } from 'undici';
import type { UpstreamTarget } from './upstream-target.js';

/**
 * The kept-alive connections proxied requests go upstream on: an undici `Pool`, dispatched
 * to with a streaming handler. Per request it costs far less than node's `http.request`
 * with an `Agent` (no `ClientRequest`, no agent bookkeeping, no per-request option copy);
 * measured in `docs/benchmarks.md`.
 */
export function upstreamPool(upstream: UpstreamTarget, ca: string | undefined): Pool {
  const host = upstream.host.includes(':') ? `[${upstream.host}]` : upstream.host;
  return new Pool(`${upstream.protocol}//${host}:${upstream.port}`, {
    // The bound stops a flood from opening sockets without end, as the agent's maxSockets did.
    connections: 1024,
    // An event stream's next event, or an upstream's slow answer, may be minutes away: the
    // proxy waits as long as the client does (node's http client had no timeout either).
    headersTimeout: 0,
    bodyTimeout: 0,
    ...(upstream.socketPath === undefined ? {} : { socketPath: upstream.socketPath }),
    ...(ca === undefined ? {} : { connect: { ca } }),
  });
}
