import { mkdtemp, rename, rm, utimes, writeFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { watchInputs } from "./watch-inputs.js";

describe("watchInputs", () => {
  it("should see a file written with its mtime put back, and one replaced and restored, but not files left alone", async () => {
    const dir = await mkdtemp(join(tmpdir(), "watch-"));
    try {
      const [a, b, c] = ["a", "b", "c"].map((n) => join(dir, n)) as [string, string, string];
      for (const f of [a, b, c]) await writeFile(f, "original");
      const watched = await watchInputs([a, b, c]);
      expect(await watched.changed()).toEqual([]);
      await sleep(20);
      const { atime, mtime } = await stat(a);
      await writeFile(a, "Original");
      await utimes(a, atime, mtime);
      await rename(b, `${b}.away`);
      await writeFile(b, "other");
      await rm(b);
      await rename(`${b}.away`, b);
      expect(await watched.changed()).toEqual([a, b]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
