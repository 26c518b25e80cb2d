import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkKldBase, kldBaseBytes } from "./kld-base.js";

/** A KL-divergence base as llama-perplexity writes it, cut to `keep` bytes. */
function kldBase(params: { ctx: number; vocab: number; chunks: number }, keep?: number): Buffer {
  const bytes = Buffer.alloc(kldBaseBytes(params));
  bytes.write("_logits_", 0, "latin1");
  bytes.writeInt32LE(params.ctx, 8);
  bytes.writeInt32LE(params.vocab, 12);
  bytes.writeInt32LE(params.chunks, 16);
  return keep === undefined ? bytes : bytes.subarray(0, keep);
}

describe("the KL-divergence base", () => {
  it("should have the size the pinned llama-perplexity writes", () => {
    // The tiny model (384-token vocabulary), ctx 64: 40 chunks made a 972,500-byte base.
    expect(kldBaseBytes({ ctx: 64, vocab: 384, chunks: 40 })).toBe(972_500);
    // An odd vocabulary is padded to an even count.
    expect(kldBaseBytes({ ctx: 512, vocab: 32_001, chunks: 1 })).toBe(20 + 512 * 4 + 255 * (32_002 + 4) * 2);
  });

  it("should accept a whole base and refuse a short one, which llama-perplexity leaves on a full disk with exit 0", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kld-"));
    const shape = { ctx: 64, vocab: 384, chunks: 8 };
    await writeFile(join(dir, "whole.bin"), kldBase(shape));
    await expect(checkKldBase(join(dir, "whole.bin"))).resolves.toBeUndefined();
    await writeFile(join(dir, "short.bin"), kldBase(shape, 100_000));
    await expect(checkKldBase(join(dir, "short.bin"))).rejects.toMatchObject({
      exitCode: 1,
      file: dir,
      message: `llama-perplexity wrote 100000 bytes of the KL-divergence base, not the ${kldBaseBytes(shape)} it describes: the disk is probably full`,
    });
    await writeFile(join(dir, "empty.bin"), "");
    await expect(checkKldBase(join(dir, "empty.bin"))).rejects.toMatchObject({ message: "llama-perplexity wrote 0 bytes of the KL-divergence base, without its header: the disk is probably full" });
  });
});
