import { estimateMemory, formatBytes, modelKind, modelShape, readGguf, type GgufSummary, type MemoryEstimate } from "@gguf-pipeline/core";
import { describeToolchain } from "@gguf-pipeline/native";
import { fitParams, memoryContexts } from "@gguf-pipeline/validate";
import { requireFile } from "./require-file.js";

export interface InspectCommandParams {
  env?: NodeJS.ProcessEnv;
  file: string;
  /** Context length for the memory estimate; the model's own by default. */
  ctx?: number;
}

export interface InspectMemory extends MemoryEstimate {
  /** llama.cpp's own projection for this file (llama-fit-params), when the toolchain is built. */
  projectedBytes?: number;
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
  /** At --ctx, or the model's own context. */
  memory: InspectMemory | undefined;
  /** At 4k, 8k and 32k (capped at the model's own context), for choosing a file. */
  memoryAt: InspectMemory[];
}

const arrayHead = 8;

/** `pipeline inspect FILE.gguf`: metadata and tensor summary, and the memory it needs at a context length. */
export async function inspectCommand(params: InspectCommandParams): Promise<InspectCommandOutput> {
  await requireFile({ file: params.file, hint: "pass a .gguf file" });
  const summary = await readGguf({ file: params.file });
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(summary.metadata)) metadata[key] = summarise(value);
  const architecture = typeof summary.metadata["general.architecture"] === "string" ? summary.metadata["general.architecture"] : undefined;
  const ctxValue = summary.metadata[`${architecture ?? ""}.context_length`];
  const contextLength = typeof ctxValue === "number" ? ctxValue : undefined;
  // llama.cpp's own projection needs the built toolchain; without it the estimate stands alone.
  const tools = await describeToolchain(params.env ? { env: params.env } : {});
  const fitTool = tools.tools.find((t) => t.name === "llama-fit-params" && t.present)?.path;
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
    memory: contextLength ? await memoryAt(summary, params.ctx ?? contextLength, fitTool) : undefined,
    memoryAt: contextLength && !params.ctx ? (await Promise.all(memoryContexts(contextLength).map((c) => memoryAt(summary, c, fitTool)))).filter((m): m is InspectMemory => Boolean(m)) : [],
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

async function memoryAt(summary: GgufSummary, ctx: number, fitTool: string | undefined): Promise<InspectMemory | undefined> {
  const shape = modelShape({ metadata: summary.metadata, weightsBytes: summary.bytes - summary.tensorDataOffset, embeddingModel: modelKind({ metadata: summary.metadata }).kind === "embedding" });
  if (!shape) return undefined;
  const projected = fitTool ? await fitParams({ file: summary.file, fitTool, ctx }).catch(() => undefined) : undefined;
  return { ...estimateMemory({ shape, ctx }), ...(projected?.totalBytes ? { projectedBytes: projected.totalBytes } : {}) };
}

export function formatInspect(out: InspectCommandOutput): string[] {
  const lines = [
    `file        ${out.file}`,
    `size        ${formatBytes(out.bytes)} (GGUF v${out.version})`,
    `arch        ${out.architecture ?? "?"}    file_type ${out.fileType ?? "?"}    ${out.parameterCount.toLocaleString("en-US")} parameters in ${out.tensorCount} tensors`,
    "tensors     " + Object.entries(out.tensorTypes).map(([type, t]) => `${type} × ${t.tensors} (${t.elements.toLocaleString("en-US")} weights)`).join(", "),
  ];
  for (const m of out.memoryAt.length > 0 ? out.memoryAt : out.memory ? [out.memory] : []) {
    const projected = m.projectedBytes ? `llama.cpp projects ${formatBytes(m.projectedBytes)}; ` : "";
    lines.push(`memory      at ctx ${m.ctx}: ${projected}estimate ${formatBytes(m.totalBytes)} = weights ${formatBytes(m.weightsBytes)} + f16 KV cache ${formatBytes(m.kvCacheBytes)} + compute ${formatBytes(m.computeBytes)} + output ${formatBytes(m.outputBytes)} (flash attention on)`);
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
