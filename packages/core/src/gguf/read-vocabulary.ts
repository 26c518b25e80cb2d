import { open } from "node:fs/promises";
import { ggufTypes } from "./encode-gguf.js";
import { scanGguf } from "./scan-gguf.js";

export interface ReadVocabularyOutput {
  /** Every token's text as the file's bytes (never decoded: llama.cpp compares bytes, and so must a check). */
  tokens: Buffer[];
}

/**
 * The vocabulary of a GGUF (`tokenizer.ggml.tokens`) as raw bytes, read from the one range of the header it occupies:
 * what a check needs to see what llama.cpp's loader sees (two tokens with the same bytes make it abort). Empty when the
 * file has no vocabulary.
 */
export async function readVocabulary(params: { file: string }): Promise<ReadVocabularyOutput> {
  const header = await scanGguf({ file: params.file });
  const range = header.kvRanges.find((kv) => kv.key === "tokenizer.ggml.tokens");
  if (!range) return { tokens: [] };
  const handle = await open(params.file, "r");
  let bytes: Buffer;
  try {
    bytes = Buffer.alloc(range.end - range.start);
    await handle.read(bytes, 0, bytes.length, range.start);
  } finally {
    await handle.close();
  }
  const le = header.littleEndian;
  let pos = 0;
  const u64 = () => {
    const v = Number(le ? bytes.readBigUInt64LE(pos) : bytes.readBigUInt64BE(pos));
    pos += 8;
    return v;
  };
  const u32 = () => {
    const v = le ? bytes.readUInt32LE(pos) : bytes.readUInt32BE(pos);
    pos += 4;
    return v;
  };
  pos = 8 + u64(); // past the key
  if (u32() !== ggufTypes.ARRAY || u32() !== ggufTypes.STRING) return { tokens: [] };
  const count = u64();
  const tokens: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const length = u64();
    tokens.push(bytes.subarray(pos, pos + length));
    pos += length;
  }
  return { tokens };
}
