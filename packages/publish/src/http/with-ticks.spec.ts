import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { withTicks } from "./with-ticks.js";

describe("withTicks", () => {
  it("should pass items through, tick while the source is silent, and return its value", async () => {
    async function* slow(): AsyncGenerator<string, number> {
      yield "a";
      await sleep(120);
      yield "b";
      return 42;
    }
    const seen: string[] = [];
    const it = withTicks(slow(), 25);
    for (;;) {
      const next = await it.next();
      if (next.done) {
        expect(next.value).toBe(42);
        break;
      }
      seen.push(next.value.kind === "item" ? next.value.value : "tick");
    }
    expect(seen[0]).toBe("a");
    expect(seen.at(-1)).toBe("b");
    expect(seen.filter((s) => s === "tick").length).toBeGreaterThanOrEqual(2);
  });

  it("should pass a failure of the source on", async () => {
    async function* failing(): AsyncGenerator<string, void> {
      yield "first";
      await sleep(10);
      throw new Error("boom");
    }
    const it = withTicks(failing(), 5);
    await expect((async () => {
      for await (const _ of it) void _;
    })()).rejects.toThrow("boom");
  });
});
