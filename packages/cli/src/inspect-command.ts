import { readGguf, type GgufSummary } from "@gguf-pipeline/core";
import { formatBytes } from "@gguf-pipeline/convert";

export interface InspectCommandParams {
  file: string;
  /** Context length for the memory estimate; the model's own by default. */
  ctx?: number;
}

export interface MemoryEstimate {
  ctx: number;
  weightsBytes: number;
  /** K and V caches in f16 (llama.cpp's default cache type). */
  kvCacheBytes: number;
  totalBytes: number;
}

export interface InspectCommandOutput {
  file: string;
  bytes: number;
  version: number;
  architecture: string | undefined;
  fileType: string | undefined;
  parameterCount: number;
  tensorCount: number;
  /** Metadata with arrays summarised: length and the first items. */
  metadata: Record<string, unknown>;
  tensorTypes: GgufSummary["tensorTypes"];
  memory: MemoryEstimate | undefined;
}

const arrayHead = 8;

/** `pipeline inspect FILE.gguf`: metadata and tensor summary, and the memory it needs at a context length. */
export async function inspectCommand(params: InspectCommandParams): Promise<InspectCommandOutput> {
  const summary = await readGguf({ file: params.file });
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(summary.metadata)) metadata[key] = summarise(value);
  const architecture = typeof summary.metadata["general.architecture"] === "string" ? summary.metadata["general.architecture"] : undefined;
  return {
    file: summary.file,
    bytes: summary.bytes,
    version: summary.version,
    architecture,
    fileType: summary.fileType,
    parameterCount: summary.parameterCount,
    tensorCount: summary.tensorCount,
    metadata,
    tensorTypes: summary.tensorTypes,
    memory: architecture ? estimateMemory(summary, architecture, params.ctx) : undefined,
  };
}

function summarise(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) {
    if (value.length <= arrayHead) return value.map(summarise);
    return { length: value.length, head: value.slice(0, arrayHead).map(summarise) };
  }
  return value;
}

function estimateMemory(summary: GgufSummary, arch: string, ctxParam: number | undefined): MemoryEstimate | undefined {
  const num = (key: string) => {
    const v = summary.metadata[`${arch}.${key}`];
    return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined;
  };
  const layers = num("block_count");
  const embd = num("embedding_length");
  const heads = num("attention.head_count");
  const kvHeads = num("attention.head_count_kv") ?? heads;
  const ctx = ctxParam ?? num("context_length");
  if (!layers || !embd || !heads || !kvHeads || !ctx) return undefined;
  const keyLength = num("attention.key_length") ?? embd / heads;
  const valueLength = num("attention.value_length") ?? embd / heads;
  const kvCacheBytes = layers * ctx * kvHeads * (keyLength + valueLength) * 2;
  const weightsBytes = summary.bytes - summary.tensorDataOffset;
  return { ctx, weightsBytes, kvCacheBytes, totalBytes: weightsBytes + kvCacheBytes };
}

export function formatInspect(out: InspectCommandOutput): string[] {
  const lines = [
    `file        ${out.file}`,
    `size        ${formatBytes(out.bytes)} (GGUF v${out.version})`,
    `arch        ${out.architecture ?? "?"}    file_type ${out.fileType ?? "?"}    ${out.parameterCount.toLocaleString("en-US")} parameters in ${out.tensorCount} tensors`,
    "tensors     " + Object.entries(out.tensorTypes).map(([type, t]) => `${type} × ${t.tensors} (${t.elements.toLocaleString("en-US")} weights)`).join(", "),
  ];
  if (out.memory) {
    lines.push(`memory      at ctx ${out.memory.ctx}: ${formatBytes(out.memory.totalBytes)} = weights ${formatBytes(out.memory.weightsBytes)} + f16 KV cache ${formatBytes(out.memory.kvCacheBytes)} (compute buffers not included)`);
  }
  lines.push(`metadata    ${Object.keys(out.metadata).length} keys`);
  for (const [key, value] of Object.entries(out.metadata)) lines.push(`  ${key} = ${formatValue(value)}`);
  return lines;
}

function formatValue(value: unknown): string {
  if (value && typeof value === "object" && "length" in value && "head" in value) {
    const v = value as { length: number; head: unknown[] };
    return `[${v.length} items: ${v.head.map((x) => JSON.stringify(x)).join(", ")}, …]`;
  }
  const text = JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 197)}…` : text;
}
