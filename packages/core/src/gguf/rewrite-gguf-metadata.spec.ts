import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GgufWriter, ggufTypes } from "./encode-gguf.js";
import { ggufValue, rewriteGgufMetadata } from "./rewrite-gguf-metadata.js";
import { scanGguf } from "./scan-gguf.js";

/** Token texts whose bytes a decode-then-encode changes: a leading BOM, invalid UTF-8, a NUL inside. */
const tokens = [Buffer.from("\ufeff//", "utf8"), Buffer.from("//"), Buffer.from([0x61, 0xff, 0xfe, 0x62]), Buffer.from("a\0b"), Buffer.from("\ufeff#", "utf8"), Buffer.from("#")];

/** A GGUF with those tokens, one F32 tensor of 8 values, 32-byte alignment. */
function tinyGguf(): Buffer {
  const w = new GgufWriter();
  w.raw(Buffer.from("GGUF", "latin1"));
  w.u32(3);
  w.u64(1);
  w.u64(3);
  w.string("general.architecture");
  w.u32(ggufTypes.STRING);
  w.string("llama");
  w.string("tokenizer.ggml.tokens");
  w.u32(ggufTypes.ARRAY);
  w.u32(ggufTypes.STRING);
  w.u64(tokens.length);
  for (const t of tokens) {
    w.u64(t.length);
    w.raw(t);
  }
  w.string("general.name");
  w.u32(ggufTypes.STRING);
  w.string("before");
  w.string("t.weight");
  w.u32(1);
  w.u64(8);
  w.u32(0);
  w.u64(0);
  w.raw(Buffer.alloc((32 - (w.length % 32)) % 32));
  w.raw(Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer));
  return w.bytes();
}

describe("rewriteGgufMetadata", () => {
  const dirs: string[] = [];
  afterEach(async () => Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true }))));

  it("should give the identical file when it changes nothing, whatever bytes the strings hold", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rewrite-"));
    dirs.push(dir);
    await writeFile(join(dir, "in.gguf"), tinyGguf());
    await rewriteGgufMetadata({ input: join(dir, "in.gguf"), output: join(dir, "out.gguf"), set: {} });
    const digest = async (f: string) => createHash("sha256").update(await readFile(join(dir, f))).digest("hex");
    expect(await digest("out.gguf")).toBe(await digest("in.gguf"));
  });

  it("should encode only the keys it sets, and copy every other pair and the tensor data byte for byte", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rewrite-"));
    dirs.push(dir);
    const input = join(dir, "in.gguf");
    await writeFile(input, tinyGguf());
    const output = join(dir, "out.gguf");
    await rewriteGgufMetadata({ input, output, set: { "general.name": ggufValue.string("after"), "general.license": ggufValue.string("mit") }, remove: ["general.architecture"] });
    const [a, b] = await Promise.all([scanGguf({ file: input }), scanGguf({ file: output })]);
    const [inBytes, outBytes] = await Promise.all([readFile(input), readFile(output)]);
    const range = (h: typeof a, bytes: Buffer, key: string) => {
      const r = h.kvRanges.find((k) => k.key === key);
      return r ? bytes.subarray(r.start, r.end) : undefined;
    };
    expect(range(b, outBytes, "tokenizer.ggml.tokens")?.equals(range(a, inBytes, "tokenizer.ggml.tokens") ?? Buffer.alloc(0))).toBe(true);
    expect(b.metadata).toMatchObject({ "general.name": "after", "general.license": "mit" });
    expect(b.metadata["general.architecture"]).toBeUndefined();
    expect(b.kvRanges.map((k) => k.key)).toEqual(["tokenizer.ggml.tokens", "general.name", "general.license"]);
    expect(outBytes.subarray(b.tensorDataOffset).equals(inBytes.subarray(a.tensorDataOffset))).toBe(true);
    expect(b.tensorDataOffset % 32).toBe(0);
  });
});
