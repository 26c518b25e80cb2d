import { mkdtemp, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PipelineError } from "../errors.js";
import { ensureFreeSpace, formatShortfall, freeSpace } from "./ensure-free-space.js";

describe("ensureFreeSpace", () => {
  it("should pass when the bytes fit, and measure a folder that does not exist yet by its parent", async () => {
    const dir = await mkdtemp(join(tmpdir(), "space-"));
    const free = await freeSpace(join(dir, "not", "yet"));
    expect(free).toBeGreaterThan(0);
    await expect(ensureFreeSpace({ dir: join(dir, "not", "yet"), bytes: 1, what: "x.gguf" })).resolves.toHaveProperty("release");
  });

  it("should count what writes running beside it still need, until they release it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "space-"));
    const bytes = Math.floor((await freeSpace(dir)) * 0.6);
    const first = await ensureFreeSpace({ dir, bytes, what: "a.gguf", hold: {} });
    // Each fits alone; together they do not.
    const refused = (await ensureFreeSpace({ dir, bytes, what: "b.gguf" }).catch((e: unknown) => e)) as PipelineError;
    expect(refused).toBeInstanceOf(PipelineError);
    expect(refused.toLine()).toMatch(/: not enough free disk space for b\.gguf: it needs about [\d,.]+ GB, [\d,.]+ GB free after what the file being written beside it still needs — /);
    first.release();
    first.release();
    await expect(ensureFreeSpace({ dir, bytes, what: "b.gguf" })).resolves.toHaveProperty("release");
  });

  it("should hold only what a file being written has yet to reach", async () => {
    const dir = await mkdtemp(join(tmpdir(), "space-"));
    const bytes = Math.floor((await freeSpace(dir)) * 0.6);
    const file = join(dir, ".a.gguf.partial-1");
    await writeFile(file, "");
    const hold = await ensureFreeSpace({ dir, bytes, what: "a.gguf", hold: { file } });
    await expect(ensureFreeSpace({ dir, bytes, what: "b.gguf" })).rejects.toBeInstanceOf(PipelineError);
    // Most of it written (a sparse file: its length counts, and it takes no space here).
    await truncate(file, Math.floor(bytes * 0.9));
    await expect(ensureFreeSpace({ dir, bytes, what: "b.gguf" })).resolves.toHaveProperty("release");
    hold.release();
  });

  it("should refuse with one line that says how much is needed and how much is free, exit 1", async () => {
    const dir = await mkdtemp(join(tmpdir(), "space-"));
    const error = (await ensureFreeSpace({ dir, bytes: Number.MAX_SAFE_INTEGER, what: "x.gguf" }).catch((e: unknown) => e)) as PipelineError;
    expect(error).toBeInstanceOf(PipelineError);
    expect(error.exitCode).toBe(1);
    expect(error.toLine()).toMatch(new RegExp(`^${dir}: not enough free disk space for x\\.gguf: it needs about [\\d,.]+ GB, [\\d,.]+ GB free — free some space, or point --out at a disk with room$`));
  });

  it("should say the need as larger than the free space whatever the rounding", () => {
    expect(formatShortfall(1_492_800, 1_048_576)).toEqual(["1.5 MB", "1 MB"]);
    expect(formatShortfall(1_000_001, 1_000_000)).toEqual(["1.1 MB", "1 MB"]);
    expect(formatShortfall(500_000, 90_000)).toEqual(["500 KB", "90 KB"]);
    expect(formatShortfall(75_400_000_000, 2_000_000_000)).toEqual(["75.4 GB", "2 GB"]);
    expect(formatShortfall(120_000, 0)).toEqual(["120 KB", "0 KB"]);
  });
});
