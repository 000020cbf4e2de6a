// HTTPS calls to a started pod as its clients make them: the server's name checked against a CA, a client identity.
import { request } from 'node:https';
import type { StartedPod } from './pod.js';

export interface Caller {
  readonly cert?: string;
  readonly key?: string;
  readonly bearer?: string;
}

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface Call {
  readonly port: number;
  readonly ca: string;
  /** The name the serving certificate must carry (the Service's, or localhost). */
  readonly servername: string;
  readonly path: string;
  readonly caller?: Caller;
  /** Sent as JSON with POST; GET without. */
  readonly body?: object;
}

export function call(c: Call): Promise<Answer> {
  const caller = c.caller ?? {};
  return new Promise((resolve, reject) => {
    const payload = c.body === undefined ? undefined : Buffer.from(JSON.stringify(c.body));
    const r = request(
      {
        host: '127.0.0.1',
        port: c.port,
        servername: c.servername,
        ca: c.ca,
        ...(caller.cert ? { cert: caller.cert, key: caller.key } : {}),
        method: payload ? 'POST' : 'GET',
        path: c.path,
        agent: false,
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          ...(caller.bearer ? { authorization: `Bearer ${caller.bearer}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (s: string) => (text += s));
        res.on('end', () => {
          let body: Record<string, unknown>;
          try {
            body = JSON.parse(text) as Record<string, unknown>;
          } catch {
            body = { text };
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    r.on('error', reject);
    r.end(payload);
  });
}

/**
 * Polls the container's readiness probe path (/readyz when it has none) until it answers 200: bounded in count,
 * failing at once if the process exits, with what it printed.
 */
export async function ready(pod: StartedPod, tls: { ca: string; servername: string }): Promise<void> {
  const path = pod.container.readinessProbe?.httpGet?.path ?? '/readyz';
  for (let i = 0; i < 200; i++) {
    if (pod.child.exitCode !== null)
      throw new Error(`tokenwarden exited (${pod.child.exitCode}):\n${pod.output()}`);
    const answer = await call({ port: pod.port, ...tls, path }).catch(() => undefined);
    if (answer?.status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${path} never answered 200:\n${pod.output()}`);
}
