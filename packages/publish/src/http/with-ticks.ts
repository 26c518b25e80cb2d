/** An item of the wrapped iterator, or a tick: time passed without one. */
export type Ticked<T> = { kind: "item"; value: T } | { kind: "tick" };

/**
 * Drains an async iterator, also yielding a tick every `ms` while it is silent, so that a caller can report progress
 * gathered elsewhere (bytes counted by a fetch) during a long step that yields nothing. Returns the iterator's value.
 */
export async function* withTicks<T, R>(iterator: AsyncIterator<T, R>, ms: number): AsyncGenerator<Ticked<T>, R> {
  let pending = iterator.next();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<"tick">((resolve) => {
        timer = setTimeout(() => resolve("tick"), ms);
      });
      const next = await Promise.race([pending, tick]).finally(() => clearTimeout(timer));
      if (next === "tick") {
        yield { kind: "tick" };
        continue;
      }
      if (next.done) return next.value;
      yield { kind: "item", value: next.value };
      pending = iterator.next();
    }
  } finally {
    // Left early (or failed): a later rejection of the step in flight must not go unhandled.
    pending.catch(() => undefined);
  }
}
