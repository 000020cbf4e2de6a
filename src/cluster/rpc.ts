/**
 * Questions and answers between the primary and its workers over the cluster's IPC
 * channel. A message is `{ tokenwarden: 'ask' | 'answer', id, ... }`; anything else on
 * the channel (prom-client's, Node's own `NODE_CLUSTER` messages) is left alone.
 */

/** What one side may ask the other. */
export type Question =
  /** worker → primary: /metrics for the whole server. */
  | 'metrics'
  /** worker → primary: the readiness line of every serving worker. */
  | 'readiness'
  /** worker → primary: the throwaway serving pair, when no certificate files are set. */
  | 'tls'
  /** primary → worker: this worker's registry as prom-client JSON. */
  | 'local-metrics'
  /** primary → worker: this worker's own readiness checks. */
  | 'local-readiness';

interface Ask {
  readonly tokenwarden: 'ask';
  readonly id: number;
  readonly question: Question;
}

interface Answer {
  readonly tokenwarden: 'answer';
  readonly id: number;
  readonly value?: unknown;
  readonly error?: string;
}

/** A process, or the primary's handle of a worker: both send and receive messages. */
export interface Channel {
  send(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

type Answerers = Partial<Record<Question, () => unknown>>;

function isMessage(m: unknown): m is Ask | Answer {
  return typeof m === 'object' && m !== null && 'tokenwarden' in m && typeof (m as Ask).id === 'number';
}

/** One side of one channel: asks with a deadline, and answers what it has answerers for. */
export class Rpc {
  private nextId = 0;
  private readonly pending = new Map<number, (a: Answer) => void>();
  private readonly listener = (m: unknown) => this.receive(m);

  private readonly answerers: Answerers = {};

  constructor(private readonly channel: Channel) {
    channel.on('message', this.listener);
  }

  /** From now on `question` is answered with what `answerer` returns (or resolves with). */
  answer(question: Question, answerer: () => unknown): void {
    this.answerers[question] = answerer;
  }

  /** Rejects after `timeoutMs` (a worker that hangs or dies must not hang /metrics). */
  ask<T>(question: Question, timeoutMs: number): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to ${question} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (a) => {
        clearTimeout(timer);
        this.pending.delete(id);
        if (a.error === undefined) resolve(a.value as T);
        else reject(new Error(a.error));
      });
      try {
        this.channel.send({ tokenwarden: 'ask', id, question } satisfies Ask);
      } catch (err) {
        // The other side has gone: the channel is closed.
        this.pending.get(id)?.({ tokenwarden: 'answer', id, error: (err as Error).message });
      }
    });
  }

  close(): void {
    this.channel.off('message', this.listener);
  }

  private receive(m: unknown): void {
    if (!isMessage(m)) return;
    if (m.tokenwarden === 'answer') {
      this.pending.get(m.id)?.(m);
      return;
    }
    if (m.tokenwarden !== 'ask') return;
    void this.reply(m);
  }

  private async reply(m: Ask): Promise<void> {
    const answerer = this.answerers[m.question];
    let reply: Answer;
    try {
      if (!answerer) throw new Error(`cannot answer ${m.question}`);
      reply = { tokenwarden: 'answer', id: m.id, value: await answerer() };
    } catch (err) {
      reply = { tokenwarden: 'answer', id: m.id, error: err instanceof Error ? err.message : String(err) };
    }
    try {
      this.channel.send(reply);
    } catch {
      // The asker has gone; nobody waits for this answer.
    }
  }
}
