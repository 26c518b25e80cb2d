import { createHash } from "node:crypto";
import { mkdtemp, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hashFile } from "./hash-file.js";

describe("hashFile", () => {
  it("should hash once, then answer from the memo until the file changes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hash-"));
    const file = join(dir, "weights.bin");
    const memoDir = join(dir, "memo");
    await writeFile(file, "first");
    const first = await hashFile({ file, memoDir });
    expect(first).toEqual({ sha256: createHash("sha256").update("first").digest("hex"), bytes: 5, memoized: false });
    expect(await hashFile({ file, memoDir })).toEqual({ ...first, memoized: true });
    await writeFile(file, "second!");
    const changed = await hashFile({ file, memoDir });
    expect(changed).toEqual({ sha256: createHash("sha256").update("second!").digest("hex"), bytes: 7, memoized: false });
  });

  it("should notice a same-size rewrite even when the mtime is put back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hash-"));
    const file = join(dir, "weights.bin");
    const memoDir = join(dir, "memo");
    await writeFile(file, "aaaa");
    const { atime, mtime } = await stat(file);
    await hashFile({ file, memoDir });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeFile(file, "bbbb");
    await utimes(file, atime, mtime);
    expect(await hashFile({ file, memoDir })).toEqual({ sha256: createHash("sha256").update("bbbb").digest("hex"), bytes: 4, memoized: false });
  });
});
