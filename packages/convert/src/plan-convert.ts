import type { ConvertOuttype } from "@gguf-pipeline/core";
import type { SourceModel } from "./inspect-source.js";

export interface PlanConvertParams {
  source: SourceModel;
  outtype: ConvertOuttype;
}

export interface ConvertPlan {
  /** Estimated size of the GGUF the converter will write. */
  estimatedBytes: number;
  /** The tensor type the file will mostly have. */
  type: string;
}

// Bytes per weight of each outtype; Q8_0 stores 32 weights in 34 bytes.
const bytesPerWeight: Record<Exclude<ConvertOuttype, "auto">, number> = { f32: 4, f16: 2, bf16: 2, q8_0: 34 / 32 };

/** What a conversion will produce, from the source's headers alone: for `plan`'s disk-space check. */
export function planConvert(params: PlanConvertParams): ConvertPlan {
  const { source } = params;
  // auto keeps 16-bit sources in their type and turns f32 sources into f16, as the converter does.
  const type = params.outtype === "auto" ? (source.config.torch_dtype === "bfloat16" || source.config.dtype === "bfloat16" ? "bf16" : "f16") : params.outtype;
  // Norms and other 1-D tensors stay f32 whatever the outtype; a few KB of header and vocab on top.
  const estimatedBytes = Math.ceil(source.parameterCount * bytesPerWeight[type]) + 1_000_000;
  return { estimatedBytes, type: type.toUpperCase() };
}
