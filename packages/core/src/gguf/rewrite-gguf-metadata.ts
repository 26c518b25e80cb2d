import { createReadStream, createWriteStream } from "node:fs";
import { open, writeFile } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { GGUFTypedMetadata } from "@huggingface/gguf";
import { encodeGgufKv, GgufWriter } from "./encode-gguf.js";
import { ggufLibrary } from "./gguf-library.js";
import { scanGguf } from "./scan-gguf.js";

export type TypedValue = GGUFTypedMetadata[string];

export interface RewriteGgufMetadataParams {
  input: string;
  /** Written from scratch; must not be the input. */
  output: string;
  /** Keys to set (added or replaced), as typed GGUF values. */
  set: Record<string, TypedValue>;
  /** Keys to drop. */
  remove?: string[];
  signal?: AbortSignal;
}

export interface RewriteGgufMetadataOutput {
  /** Where the tensor data starts in the input and in the output (it is the same bytes). */
  inputDataOffset: number;
  outputDataOffset: number;
}

/**
 * Rewrites only a GGUF's header: the keys set are encoded anew (in the place of the ones they replace, new ones last),
 * every other key–value pair and the tensor infos are copied byte for byte — a string is never decoded and encoded
 * again, so a token that starts with U+FEFF, holds invalid UTF-8 or a NUL stays exactly what it was (a decoder that
 * drops a leading BOM once made Gemma's `"\ufeff//"` a duplicate of `"//"`, and llama.cpp refused the file). The tensor
 * data is streamed across byte for byte, never read into memory. A rewrite that changes nothing gives the same file.
 */
export async function rewriteGgufMetadata(params: RewriteGgufMetadataParams): Promise<RewriteGgufMetadataOutput> {
  const header = await scanGguf({ file: params.input });
  const le = header.littleEndian;
  // The header and whatever lies between it and the tensor data (padding; none at all in a vocabulary-only file).
  const original = await readBytes(params.input, Math.min(header.tensorDataOffset, header.bytes));
  const removed = new Set(params.remove ?? []);
  const setKeys = new Set(Object.keys(params.set));
  const pairs: Buffer[] = [];
  for (const kv of header.kvRanges) {
    if (removed.has(kv.key) && !setKeys.has(kv.key)) continue;
    const replacement = params.set[kv.key];
    pairs.push(replacement ? encodeGgufKv(kv.key, replacement, le) : original.subarray(kv.start, kv.end));
  }
  const present = new Set(header.kvRanges.map((kv) => kv.key));
  for (const [key, value] of Object.entries(params.set)) if (!present.has(key)) pairs.push(encodeGgufKv(key, value, le));

  const w = new GgufWriter(le);
  // Magic, version and the tensor count as they were; then the new number of pairs.
  w.raw(original.subarray(0, 16));
  w.u64(pairs.length);
  for (const pair of pairs) w.raw(pair);
  w.raw(original.subarray(header.tensorInfoRange.start, header.tensorInfoRange.end));
  // The alignment the output declares (after the changes) is the one its tensor data must start on.
  const declared = params.set["general.alignment"]?.value ?? (removed.has("general.alignment") ? 32 : header.alignment);
  const alignment = Number(declared) > 0 ? Number(declared) : 32;
  // A header of the same length and alignment keeps its own padding bytes (a no-op rewrite gives the same file).
  if (w.length === header.tensorInfoRange.end && alignment === header.alignment) w.raw(original.subarray(header.tensorInfoRange.end));
  else w.raw(Buffer.alloc((alignment - (w.length % alignment)) % alignment));
  const bytes = w.bytes();
  await writeFile(params.output, bytes);
  if (header.tensorDataOffset < header.bytes) {
    await pipeline(createReadStream(params.input, { start: header.tensorDataOffset }), createWriteStream(params.output, { flags: "a" }), params.signal ? { signal: params.signal } : {});
  }
  return { inputDataOffset: header.tensorDataOffset, outputDataOffset: bytes.length };
}

/** The first `length` bytes of a file (a header: megabytes for a large vocabulary, never the tensor data). */
async function readBytes(file: string, length: number): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Typed-value shorthands for the common GGUF kinds. */
export const ggufValue = {
  string: (value: string): TypedValue => ({ value, type: ggufLibrary().GGUFValueType.STRING }),
  uint32: (value: number): TypedValue => ({ value, type: ggufLibrary().GGUFValueType.UINT32 }),
  float32: (value: number): TypedValue => ({ value, type: ggufLibrary().GGUFValueType.FLOAT32 }),
  strings: (value: string[]): TypedValue => ({ value, type: ggufLibrary().GGUFValueType.ARRAY, subType: ggufLibrary().GGUFValueType.STRING }),
};
