import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

export interface FileWatch {
  close(): void;
}

export interface FileWatchOptions {
  /** Re-check on a timer too, as kube's dynamic certificates do: some volume swaps emit no event. */
  readonly resyncMs?: number;
  /** Editors and kubelet write in several steps; wait for them to settle. */
  readonly debounceMs?: number;
}

/**
 * Calls `onChange` when any of `paths` may have changed. It watches the parent
 * directories rather than the files: an atomic rename or a kubelet `..data` symlink
 * swap replaces the inode, and a watch on the old file would go silent (the failure
 * kube re-adds its watch for). The callback must re-read and compare; it may be
 * called when nothing changed.
 */
export function watchFiles(
  paths: readonly string[],
  onChange: () => void,
  options: FileWatchOptions = {},
): FileWatch {
  const { resyncMs = 60_000, debounceMs = 50 } = options;
  let timer: NodeJS.Timeout | undefined;
  const fire = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, debounceMs);
    timer.unref();
  };

  const watchers: FSWatcher[] = [];
  for (const dir of new Set(paths.map((p) => dirname(p)))) {
    try {
      const w = watch(dir, { persistent: false }, fire);
      // A watch error (directory removed) must not crash the process; the resync still runs.
      w.on('error', () => w.close());
      watchers.push(w);
    } catch {
      // The directory may not exist yet; the resync timer picks the files up later.
    }
  }
  const resync = setInterval(onChange, resyncMs);
  resync.unref();

  return {
    close() {
      clearInterval(resync);
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
