import { createReadStream, createWriteStream, openAsBlob } from "node:fs";
import { writeFile } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { GGUFTypedMetadata } from "@huggingface/gguf";
import { ggufLibrary } from "./gguf-library.js";

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
 * Rewrites only a GGUF's header with @huggingface/gguf: the metadata changes, the tensor infos are copied as they are,
 * and the tensor data is streamed across byte for byte (never read into memory).
 */
export async function rewriteGgufMetadata(params: RewriteGgufMetadataParams): Promise<RewriteGgufMetadataOutput> {
  const { buildGgufHeader, gguf } = ggufLibrary();
  const parsed = await gguf(params.input, { allowLocalFile: true, typedMetadata: true });
  const typed: GGUFTypedMetadata = { ...parsed.typedMetadata };
  for (const key of params.remove ?? []) delete typed[key];
  for (const [key, value] of Object.entries(params.set)) typed[key] = value;
  // The alignment the output declares (after the changes) is the one its tensor data must start on.
  const alignment = Number(typed["general.alignment"]?.value ?? 32);
  const header = await buildGgufHeader(await openAsBlob(params.input), typed, { littleEndian: parsed.littleEndian, tensorInfoByteRange: parsed.tensorInfoByteRange, alignment });
  await writeFile(params.output, new Uint8Array(await header.arrayBuffer()));
  const inputDataOffset = Number(parsed.tensorDataOffset);
  await pipeline(createReadStream(params.input, { start: inputDataOffset }), createWriteStream(params.output, { flags: "a" }), params.signal ? { signal: params.signal } : {});
  return { inputDataOffset, outputDataOffset: header.size };
}

/** Typed-value shorthands for the common GGUF kinds. */
export const ggufValue = {
  string: (value: string): TypedValue => ({ value, type: ggufLibrary().GGUFValueType.STRING }),
  uint32: (value: number): TypedValue => ({ value, type: ggufLibrary().GGUFValueType.UINT32 }),
  float32: (value: number): TypedValue => ({ value, type: ggufLibrary().GGUFValueType.FLOAT32 }),
  strings: (value: string[]): TypedValue => ({ value, type: ggufLibrary().GGUFValueType.ARRAY, subType: ggufLibrary().GGUFValueType.STRING }),
};
