import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { joinKldBases } from "./join-kld-bases.js";
import { checkKldBase, kldBaseBytes } from "./kld-base.js";

/** A base whose every token is `fill` and every log-probability byte `fill` too. */
function base(chunks: number, fill: number): Buffer {
  const shape = { ctx: 8, vocab: 6, chunks };
  const bytes = Buffer.alloc(kldBaseBytes(shape), fill);
  bytes.write("_logits_", 0, "latin1");
  bytes.writeInt32LE(8, 8);
  bytes.writeInt32LE(6, 12);
  bytes.writeInt32LE(chunks, 16);
  return bytes;
}

describe("joinKldBases", () => {
  it("should write the parts' tokens, then their log-probabilities, under a header counting all chunks", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kld-join-"));
    await writeFile(join(dir, "a.bin"), base(2, 1));
    await writeFile(join(dir, "b.bin"), base(3, 2));
    const out = await joinKldBases({ parts: [join(dir, "a.bin"), join(dir, "b.bin")], output: join(dir, "ab.bin") });
    expect(out).toEqual({ chunks: 5, bytes: kldBaseBytes({ ctx: 8, vocab: 6, chunks: 5 }) });
    await expect(checkKldBase(join(dir, "ab.bin"))).resolves.toBeUndefined();
    const joined = await readFile(join(dir, "ab.bin"));
    const tokens = joined.subarray(20, 20 + 5 * 8 * 4);
    expect([...tokens.subarray(0, 64)].every((b) => b === 1) && [...tokens.subarray(64)].every((b) => b === 2)).toBe(true);
    const logs = joined.subarray(20 + 5 * 8 * 4);
    const perChunk = (kldBaseBytes({ ctx: 8, vocab: 6, chunks: 1 }) - 20 - 8 * 4);
    expect([...logs.subarray(0, 2 * perChunk)].every((b) => b === 1) && [...logs.subarray(2 * perChunk)].every((b) => b === 2)).toBe(true);
  });

  it("should refuse parts of another context", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kld-join-"));
    const other = base(1, 0);
    other.writeInt32LE(16, 8);
    await writeFile(join(dir, "a.bin"), base(1, 0));
    await writeFile(join(dir, "b.bin"), other);
    await expect(joinKldBases({ parts: [join(dir, "a.bin"), join(dir, "b.bin")], output: join(dir, "x.bin") })).rejects.toThrow(/another context/);
  });
});
