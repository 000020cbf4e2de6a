import {
  makeSnapshot,
  type KeySnapshot,
  type KeySource,
  type KeySourceHealth,
  type RefreshReason,
} from './key-source.js';
import { MAX_KEYS_PER_SOURCE } from './parse.js';

/**
 * One issuer's keys from several sources (key files shared by every SA issuer, plus that
 * issuer's own JWKS or discovery source), seen as one KeySource. The merged snapshot is
 * rebuilt only when a member's snapshot changes, so the hot path stays a property read.
 * Members are not owned: closing this does not close them (a file source is shared).
 * Keys of another issuer never appear here, whatever their kid: a kid is chosen by whoever signs, so it cannot decide whose keys apply.
 */
export class MergedKeySource implements KeySource {
  private cached:
    { members: readonly (KeySnapshot | undefined)[]; merged: KeySnapshot | undefined } | undefined;
  private generation = 0;

  constructor(
    readonly name: string,
    private readonly members: readonly KeySource[],
  ) {
    if (members.length === 0) throw new TypeError(`${name}: a merged key source needs at least one member`);
  }

  snapshot(): KeySnapshot | undefined {
    const current = this.members.map((m) => m.snapshot());
    const c = this.cached;
    if (c && c.members.length === current.length && c.members.every((s, i) => s === current[i]))
      return c.merged;
    const loaded = current.filter((s): s is KeySnapshot => s !== undefined);
    let merged: KeySnapshot | undefined;
    if (loaded.length > 0) {
      // Each member is capped already; the cap here bounds a kid-less token's work per issuer.
      const keys = loaded.flatMap((s) => s.keys).slice(0, MAX_KEYS_PER_SOURCE * this.members.length);
      merged = makeSnapshot(keys, ++this.generation);
    }
    this.cached = { members: current, merged };
    return merged;
  }

  async refreshForKid(kid: string, reason?: RefreshReason): Promise<KeySnapshot | undefined> {
    await Promise.all(this.members.map((m) => m.refreshForKid(kid, reason).catch(() => undefined)));
    return this.snapshot();
  }

  onChange(listener: (s: KeySnapshot) => void): () => void {
    const offs = this.members.map((m) =>
      m.onChange(() => {
        const s = this.snapshot();
        if (s) listener(s);
      }),
    );
    return () => {
      for (const off of offs) off();
    };
  }

  health(): KeySourceHealth {
    const hs = this.members.map((m) => m.health());
    return {
      name: this.name,
      ready: hs.every((h) => h.ready),
      keyCount: this.snapshot()?.keys.length ?? 0,
      loads: hs.reduce((n, h) => n + h.loads, 0),
      loadFailures: hs.reduce((n, h) => n + h.loadFailures, 0),
    };
  }

  close(): void {}
}
