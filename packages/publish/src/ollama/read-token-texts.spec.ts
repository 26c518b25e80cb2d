import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readTokenTexts } from "./read-token-texts.js";

function encoders(littleEndian = true) {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    if (littleEndian) b.writeUInt32LE(n);
    else b.writeUInt32BE(n);
    return b;
  };
  const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    if (littleEndian) b.writeBigUInt64LE(BigInt(n));
    else b.writeBigUInt64BE(BigInt(n));
    return b;
  };
  const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
  return {
    u32Value: (n: number) => Buffer.concat([u32(4), u32(n)]),
    stringValue: (s: string) => Buffer.concat([u32(8), str(s)]),
    strings: (items: string[]) => Buffer.concat([u32(9), u32(8), u64(items.length), ...items.map(str)]),
    floats: (n: number) => Buffer.concat([u32(9), u32(6), u64(n), Buffer.alloc(4 * n)]),
    /** A header-only GGUF (no tensors) with the given values, written the way llama.cpp writes them. */
    gguf: (values: [string, Buffer][]) => Buffer.concat([Buffer.from("GGUF"), u32(3), u64(0), u64(values.length), ...values.flatMap(([key, value]) => [str(key), value])]),
  };
}

const gguf = (values: [string, Buffer][], littleEndian = true) => encoders(littleEndian).gguf(values);

const vocab = Array.from({ length: 300 }, (_, i) => (i === 2 ? "</s>" : i === 299 ? "<|eot_id|>" : `tok${i}`));

describe("readTokenTexts", () => {
  it("should read the wanted entries of a long vocabulary, skipping every other value", async () => {
    const dir = await mkdtemp(join(tmpdir(), "token-texts-"));
    const e = encoders();
    const file = join(dir, "m.gguf");
    await writeFile(file, gguf([["general.architecture", e.stringValue("llama")], ["tokenizer.ggml.scores", e.floats(300)], ["tokenizer.ggml.eos_token_id", e.u32Value(2)], ["tokenizer.ggml.tokens", e.strings(vocab)], ["tokenizer.chat_template", e.stringValue("{{ x }}")]]));
    expect(await readTokenTexts({ file, ids: [2, 299, 5000, -1] })).toEqual(new Map([[2, "</s>"], [299, "<|eot_id|>"]]));
    expect(await readTokenTexts({ file, ids: [] })).toEqual(new Map());
  });

  it("should read a big-endian file, and give nothing for a file without a vocabulary", async () => {
    const dir = await mkdtemp(join(tmpdir(), "token-texts-"));
    const be = encoders(false);
    const big = join(dir, "be.gguf");
    await writeFile(big, gguf([["tokenizer.ggml.tokens", be.strings(vocab)]], false));
    expect(await readTokenTexts({ file: big, ids: [2] })).toEqual(new Map([[2, "</s>"]]));
    const none = join(dir, "none.gguf");
    await writeFile(none, gguf([["general.architecture", encoders().stringValue("bert")]]));
    expect(await readTokenTexts({ file: none, ids: [2] })).toEqual(new Map());
  });

  it("should say where a cut header ends instead of reading zeros", async () => {
    const dir = await mkdtemp(join(tmpdir(), "token-texts-"));
    const whole = gguf([["tokenizer.ggml.tokens", encoders().strings(vocab)]]);
    const file = join(dir, "cut.gguf");
    await writeFile(file, whole.subarray(0, 200));
    await expect(readTokenTexts({ file, ids: [299] })).rejects.toThrow(/the file is truncated in the header at byte \d+ \(reading tokenizer\.ggml\.tokens\[\d+\]; the file has 200 bytes\)/);
    await writeFile(file, "not a gguf");
    await expect(readTokenTexts({ file, ids: [1] })).rejects.toThrow(/not a GGUF file/);
  });
});
