export interface RunInSlotsParams<T> {
  items: readonly T[];
  /** How many items may hold a slot at once. */
  slots: number;
  /**
   * Runs one item. Calling `release` gives its slot to the next item while the rest of its work goes on (a quant's
   * hash after its tool has exited); an item that never calls it holds its slot until it ends.
   */
  run: (item: T, release: () => void) => Promise<void>;
  /** Once aborted, no further item starts (those running are the caller's to stop). */
  signal?: AbortSignal;
}

/**
 * Runs items in order, at most `slots` of them holding a slot at a time. Resolves once every started item has ended;
 * rejects with the first error an item threw, after all of them ended.
 */
export function runInSlots<T>(params: RunInSlotsParams<T>): Promise<void> {
  const pending = [...params.items];
  let free = Math.max(1, params.slots);
  let active = 0;
  let failure: { error: unknown } | undefined;
  return new Promise<void>((resolve, reject) => {
    const settleIfDone = () => {
      if (active > 0) return;
      if (failure) reject(failure.error);
      else resolve();
    };
    const launch = () => {
      while (free > 0 && pending.length > 0 && !params.signal?.aborted) {
        const item = pending.shift() as T;
        free--;
        active++;
        let held = true;
        const release = () => {
          if (!held) return;
          held = false;
          free++;
          launch();
        };
        // Called as a promise's job, so an item that throws at once still ends through the same path.
        void Promise.resolve()
          .then(() => params.run(item, release))
          .catch((error: unknown) => {
            failure ??= { error };
          })
          .finally(() => {
            release();
            active--;
            settleIfDone();
          });
      }
      settleIfDone();
    };
    launch();
  });
}
