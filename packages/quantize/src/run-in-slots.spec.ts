import { describe, expect, it } from "vitest";
import { runInSlots } from "./run-in-slots.js";

/** A promise to settle by hand, to walk the scheduler through its states without timers. */
function deferred() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("runInSlots", () => {
  it("should start the next item when one releases its slot, while the released one is still running", async () => {
    const started: string[] = [];
    const tool = { a: deferred(), b: deferred(), c: deferred() };
    const tail = { a: deferred(), b: deferred(), c: deferred() };
    const done = runInSlots({
      items: ["a", "b", "c"] as const,
      slots: 1,
      run: async (item, release) => {
        started.push(item);
        await tool[item].promise;
        release();
        await tail[item].promise;
      },
    });
    await flush();
    expect(started).toEqual(["a"]);
    tool.a.resolve();
    await flush();
    // a is hashing, b has its slot.
    expect(started).toEqual(["a", "b"]);
    tail.a.resolve();
    await flush();
    expect(started).toEqual(["a", "b"]);
    tool.b.resolve();
    tail.b.resolve();
    await flush();
    expect(started).toEqual(["a", "b", "c"]);
    let ended = false;
    void done.then(() => (ended = true));
    tool.c.resolve();
    await flush();
    expect(ended).toBe(false);
    tail.c.resolve();
    await done;
  });

  it("should never let more than `slots` items hold a slot, and count an item that never releases until it ends", async () => {
    let holding = 0;
    let most = 0;
    await runInSlots({
      items: [1, 2, 3, 4, 5, 6, 7],
      slots: 2,
      run: async (item, release) => {
        holding++;
        most = Math.max(most, holding);
        await flush();
        holding--;
        if (item % 2 === 0) release();
        await flush();
      },
    });
    expect(most).toBe(2);
  });

  it("should run every item despite a failure, then reject with the first error", async () => {
    const ran: number[] = [];
    await expect(
      runInSlots({
        items: [1, 2, 3],
        slots: 1,
        run: async (item) => {
          ran.push(item);
          if (item === 2) throw new Error("rung 2 failed");
          if (item === 3) throw new Error("rung 3 failed");
        },
      }),
    ).rejects.toThrow("rung 2 failed");
    expect(ran).toEqual([1, 2, 3]);
  });

  it("should start nothing more once its signal is aborted, and end when the running items end", async () => {
    const stop = new AbortController();
    const ran: number[] = [];
    await runInSlots({
      items: [1, 2, 3],
      slots: 1,
      signal: stop.signal,
      run: async (item) => {
        ran.push(item);
        stop.abort();
      },
    });
    expect(ran).toEqual([1]);
  });

  it("should resolve at once with no items", async () => {
    await expect(runInSlots({ items: [], slots: 3, run: async () => undefined })).resolves.toBeUndefined();
  });
});
