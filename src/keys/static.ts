import type { KeySnapshot, KeySource, KeySourceHealth, VerificationKey } from './key-source.js';
import { makeSnapshot } from './key-source.js';

/** A fixed key set held in memory: the dev issuer's key, and library users who import keys themselves. */
export class StaticKeySource implements KeySource {
  private readonly current: KeySnapshot;
  private readonly loadedAt = Date.now();

  constructor(
    readonly name: string,
    keys: readonly VerificationKey[],
  ) {
    this.current = makeSnapshot(keys, 1);
  }

  snapshot(): KeySnapshot {
    return this.current;
  }

  refreshForKid(): Promise<KeySnapshot> {
    return Promise.resolve(this.current);
  }

  onChange(): () => void {
    return () => {};
  }

  health(): KeySourceHealth {
    return {
      name: this.name,
      ready: true,
      keyCount: this.current.keys.length,
      lastSuccess: this.loadedAt,
      loads: 1,
      loadFailures: 0,
    };
  }

  close(): void {}
}
