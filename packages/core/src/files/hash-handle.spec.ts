import { createHash } from "node:crypto";
import { mkdtemp, open, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CanceledError } from "../errors.js";
import { hashHandle } from "./hash-handle.js";

async function fileOf(bytes: Buffer): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), "hash-handle-")), "data.bin");
  await writeFile(file, bytes);
  return file;
}

describe("hashHandle", () => {
  it("should hash from a byte to the end across several chunks, and say where it stopped", async () => {
    // 5 MiB and a few bytes: three 2 MiB reads, the last one short.
    const bytes = Buffer.alloc(5 * 2 ** 20 + 13);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i % 251;
    const handle = await open(await fileOf(bytes), "r");
    try {
      const hash = createHash("sha256");
      expect(await hashHandle({ handle, hash, from: 1000 })).toEqual({ to: bytes.length });
      expect(hash.digest("hex")).toBe(createHash("sha256").update(bytes.subarray(1000)).digest("hex"));
    } finally {
      await handle.close();
    }
  });

  it("should stop with CanceledError once the signal is aborted", async () => {
    const handle = await open(await fileOf(Buffer.alloc(3 * 2 ** 20)), "r");
    try {
      const controller = new AbortController();
      controller.abort();
      await expect(hashHandle({ handle, hash: createHash("sha256"), from: 0, signal: controller.signal })).rejects.toBeInstanceOf(CanceledError);
    } finally {
      await handle.close();
    }
  });
});
