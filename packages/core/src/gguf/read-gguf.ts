import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { InputError } from "../errors.js";
import { ggufLibrary } from "./gguf-library.js";
import { GgufHeaderError, scanGguf, type GgufValue } from "./scan-gguf.js";

export interface ReadGgufParams {
  file: string;
}

export interface GgufSummary {
  file: string;
  bytes: number;
  version: number;
  /** Every key; long arrays (a vocabulary) as their length and first items. */
  metadata: Record<string, GgufValue>;
  tensorCount: number;
  tensorDataOffset: number;
  parameterCount: number;
  /** `general.file_type` by llama.cpp's name (F32, F16, Q4_K_M, ...). */
  fileType: string | undefined;
  /** How many tensors and elements of each ggml type. */
  tensorTypes: Record<string, { tensors: number; elements: number }>;
  tensors: { name: string; type: string; shape: number[] }[];
}

/** Reads a GGUF header (metadata and tensor infos; no tensor data, no long arrays); scanGguf parses it once per process. */
export async function readGguf(params: ReadGgufParams): Promise<GgufSummary> {
  const file = resolve(params.file);
  await stat(file).catch((error: unknown) => {
    throw new InputError({ file: params.file, message: `not a readable GGUF file (${(error as Error).message})`, hint: "pass a .gguf file", cause: error });
  });
  return summarise(params.file, file);
}

async function summarise(given: string, file: string): Promise<GgufSummary> {
  let header;
  try {
    header = await scanGguf({ file });
  } catch (error) {
    const why = error instanceof GgufHeaderError ? error.message : (error as Error).message;
    throw new InputError({ file: given, message: `not a readable GGUF file (${why})`, hint: "pass a complete .gguf file", cause: error });
  }
  const tensorTypes: GgufSummary["tensorTypes"] = {};
  const tensors: GgufSummary["tensors"] = [];
  let parameterCount = 0;
  for (const info of header.tensors) {
    const type = ggmlTypeName(info.type);
    const elements = info.shape.reduce((a, b) => a * b, 1);
    const entry = (tensorTypes[type] ??= { tensors: 0, elements: 0 });
    entry.tensors++;
    entry.elements += elements;
    parameterCount += elements;
    tensors.push({ name: info.name, type, shape: info.shape });
  }
  const fileTypeValue = header.metadata["general.file_type"];
  return {
    file,
    bytes: header.bytes,
    version: header.version,
    metadata: header.metadata,
    tensorCount: header.tensors.length,
    tensorDataOffset: header.tensorDataOffset,
    parameterCount,
    fileType: typeof fileTypeValue === "number" ? fileTypeName(fileTypeValue) : undefined,
    tensorTypes,
    tensors,
  };
}

export function fileTypeName(value: number): string {
  return ggufLibrary().GGMLFileQuantizationType[value] ?? `file_type ${value}`;
}

export function ggmlTypeName(value: number): string {
  return ggufLibrary().GGMLQuantizationType[value] ?? `type ${value}`;
}
