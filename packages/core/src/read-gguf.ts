import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { gguf, GGMLFileQuantizationType, GGMLQuantizationType, type GGUFParseOutput, type MetadataValue } from "@huggingface/gguf";
import { InputError } from "./errors.js";

export interface ReadGgufParams {
  file: string;
}

export interface GgufSummary {
  file: string;
  bytes: number;
  version: number;
  metadata: Record<string, MetadataValue>;
  tensorCount: number;
  tensorDataOffset: number;
  parameterCount: number;
  /** `general.file_type` by llama.cpp's name (F32, F16, Q4_K_M, ...). */
  fileType: string | undefined;
  /** How many tensors, elements and bytes of each ggml type. */
  tensorTypes: Record<string, { tensors: number; elements: number }>;
  tensors: { name: string; type: string; shape: number[] }[];
}

/** Reads a GGUF header (metadata and tensor infos) with @huggingface/gguf; tensor data is not read. */
export async function readGguf(params: ReadGgufParams): Promise<GgufSummary> {
  const file = resolve(params.file);
  let parsed: GGUFParseOutput & { parameterCount: number };
  let bytes: number;
  try {
    bytes = (await stat(file)).size;
    parsed = await gguf(file, { allowLocalFile: true, computeParametersCount: true });
  } catch (error) {
    throw new InputError({ file: params.file, message: `not a readable GGUF file (${(error as Error).message})`, hint: "pass a .gguf file", cause: error });
  }
  const tensorTypes: GgufSummary["tensorTypes"] = {};
  const tensors: GgufSummary["tensors"] = [];
  for (const info of parsed.tensorInfos) {
    const type = ggmlTypeName(info.dtype);
    const shape = info.shape.map(Number);
    const elements = shape.reduce((a, b) => a * b, 1);
    const entry = (tensorTypes[type] ??= { tensors: 0, elements: 0 });
    entry.tensors++;
    entry.elements += elements;
    tensors.push({ name: info.name, type, shape });
  }
  const metadata = parsed.metadata as unknown as Record<string, MetadataValue>;
  const fileTypeValue = metadata["general.file_type"];
  return {
    file,
    bytes,
    version: Number(metadata.version),
    metadata,
    tensorCount: parsed.tensorInfos.length,
    tensorDataOffset: Number(parsed.tensorDataOffset),
    parameterCount: parsed.parameterCount,
    fileType: typeof fileTypeValue === "number" ? fileTypeName(fileTypeValue) : undefined,
    tensorTypes,
    tensors,
  };
}

export function fileTypeName(value: number): string {
  return GGMLFileQuantizationType[value] ?? `file_type ${value}`;
}

export function ggmlTypeName(value: number): string {
  return GGMLQuantizationType[value] ?? `type ${value}`;
}
