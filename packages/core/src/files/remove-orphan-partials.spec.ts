import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { removeOrphanPartials } from "./remove-orphan-partials.js";

describe("removeOrphanPartials", () => {
  it("should remove what dead processes left and keep what living ones are writing", async () => {
    const out = await mkdtemp(join(tmpdir(), "orphans-"));
    // 2^22 is above Linux's pid_max default: no such process.
    const dead = 4194304 + 7;
    await mkdir(join(out, ".pipeline"));
    const files = [`.Tiny-F16.gguf.partial-${dead}`, `.Tiny-Q4_0.gguf.partial-${dead}-00001-of-00002.gguf`, `.Tiny-F16.gguf.partial-${process.pid}`, "Tiny-F16.gguf", ".pipeline/state.json", `.pipeline/state.json.${dead}.tmp`];
    for (const f of files) await writeFile(join(out, f), "x");
    // The converter's source folder of links, with its card (a folder, removed whole), a dead run's and a living one's.
    for (const pid of [dead, process.pid]) {
      await mkdir(join(out, ".pipeline", `source-0a1b2c3d.${pid}.tmp`, "tiny"), { recursive: true });
      await writeFile(join(out, ".pipeline", `source-0a1b2c3d.${pid}.tmp`, "tiny", "README.md"), "---\nlicense: mit\n---\n");
    }
    const { removed } = await removeOrphanPartials({ outDir: out });
    expect(removed.map((r) => r.path).sort()).toEqual([`.Tiny-F16.gguf.partial-${dead}`, `.Tiny-Q4_0.gguf.partial-${dead}-00001-of-00002.gguf`, `.pipeline/state.json.${dead}.tmp`, `.pipeline/source-0a1b2c3d.${dead}.tmp`].sort());
    expect((await readdir(out)).sort()).toEqual([`.Tiny-F16.gguf.partial-${process.pid}`, ".pipeline", "Tiny-F16.gguf"].sort());
    expect((await readdir(join(out, ".pipeline"))).sort()).toEqual([`source-0a1b2c3d.${process.pid}.tmp`, "state.json"]);
  });
});
