import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GgufHeaderError, scanGguf } from "./scan-gguf.js";

/** A minimal GGUF v3: one string key, one F32 tensor of 4 elements (little-endian). */
function tinyGguf(): Buffer {
  const u32 = (n: number) => Buffer.from(new Uint32Array([n]).buffer);
  const u64 = (n: number) => Buffer.from(new BigUint64Array([BigInt(n)]).buffer);
  const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
  const header = Buffer.concat([Buffer.from("GGUF"), u32(3), u64(1), u64(1), str("general.architecture"), u32(8), str("llama"), str("t"), u32(1), u64(4), u32(0), u64(0)]);
  const padded = Buffer.concat([header, Buffer.alloc((32 - (header.length % 32)) % 32)]);
  return Buffer.concat([padded, Buffer.alloc(16)]);
}

async function scanBytes(bytes: Buffer): Promise<unknown> {
  const file = join(await mkdtemp(join(tmpdir(), "scan-")), "x.gguf");
  await writeFile(file, bytes);
  return scanGguf({ file }).catch((e: unknown) => e);
}

describe("scanGguf", () => {
  it("should read a whole header", async () => {
    expect(await scanBytes(tinyGguf())).toMatchObject({ version: 3, metadata: { "general.architecture": "llama" }, tensors: [{ name: "t", type: 0, shape: [4], offset: 0 }], tensorDataOffset: 128 });
  });

  it("should say empty for an empty file, and the byte where a cut header ends, inventing nothing", async () => {
    const empty = (await scanBytes(Buffer.alloc(0))) as GgufHeaderError;
    expect(empty).toBeInstanceOf(GgufHeaderError);
    expect(empty).toMatchObject({ at: 0, message: "the file is empty" });
    const whole = tinyGguf();
    // Layout: magic 0, version 4, counts 8 and 16, key 24 (length) + 32, its type 52, its value 56 + 64, tensor 69...
    for (const [cut, what, at] of [[2, "the magic", 0], [6, "the version", 4], [24, "metadata key 1 of 1", 24], [50, "metadata key 1 of 1", 32], [54, "the type of general.architecture", 52], [66, "general.architecture", 64], [72, "tensor info 1 of 1", 69], [80, "the dimensions of t", 78], [100, "the offset of t", 94]] as const) {
      const error = (await scanBytes(whole.subarray(0, cut))) as GgufHeaderError;
      expect(error, String(cut)).toBeInstanceOf(GgufHeaderError);
      expect(error.message).toBe(`the file is truncated in the header at byte ${at} (reading ${what}; the file has ${cut} bytes)`);
      expect(error.at).toBe(at);
    }
  });

  it("should skip a long vocabulary across read windows, keeping its head and the picked items, and read on after it", async () => {
    const u32 = (n: number) => Buffer.from(new Uint32Array([n]).buffer);
    const u64 = (n: number) => Buffer.from(new BigUint64Array([BigInt(n)]).buffer);
    const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
    // 120k tokens of 1 to 40 bytes: about 3 MB, so strings straddle the 1 MB windows.
    const tokens = Array.from({ length: 120_000 }, (_, i) => `t${i}`.padEnd(1 + (i % 40), "x"));
    const header = Buffer.concat([Buffer.from("GGUF"), u32(3), u64(1), u64(2), str("tokenizer.ggml.tokens"), u32(9), u32(8), u64(tokens.length), ...tokens.map(str), str("after"), u32(4), u32(7), str("t"), u32(1), u64(4), u32(0), u64(0)]);
    const padded = Buffer.concat([header, Buffer.alloc((32 - (header.length % 32)) % 32), Buffer.alloc(16)]);
    const file = join(await mkdtemp(join(tmpdir(), "scan-")), "vocab.gguf");
    await writeFile(file, padded);
    const pick = [9, 70_001, 119_999, 120_000];
    const parsed = await scanGguf({ file, pick: { key: "tokenizer.ggml.tokens", indices: pick } });
    expect(parsed.metadata["tokenizer.ggml.tokens"]).toEqual({ kind: "long-array", itemType: 8, length: 120_000, head: tokens.slice(0, 8), picked: { 9: tokens[9], 70001: tokens[70_001], 119999: tokens[119_999] } });
    expect(parsed.metadata.after).toBe(7);
    expect(parsed.tensors).toEqual([{ name: "t", type: 0, shape: [4], offset: 0 }]);
    const cut = (await scanBytes(padded.subarray(0, 2_000_000))) as GgufHeaderError;
    expect(cut.message).toMatch(/^the file is truncated in the header at byte \d+ \(reading tokenizer\.ggml\.tokens\[\d+\]; the file has 2000000 bytes\)$/);
  });

  it("should refuse a folder as not a GGUF file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "scan-"));
    expect(await scanGguf({ file: dir }).catch((e: unknown) => e)).toMatchObject({ name: "GgufHeaderError", at: 0, message: "a folder, not a GGUF file" });
  });
});
