import { PublishError } from "../errors.js";

export interface SplitPlanParams {
  /** The file being split (for errors). */
  file: string;
  /** The largest file the Hub takes. */
  maxFileBytes: number;
  /** The GGUF's header (metadata and tensor infos): the first part carries all of it. */
  headerBytes: number;
  /** Each tensor's bytes in the file, alignment padding included, in the header's order. */
  tensorBytes: number[];
}

export interface SplitPlan {
  /** llama-gguf-split's options: `--split-max-size NM`, or `--split-max-tensors N` below its 1 MB unit. */
  args: string[];
  /** How many parts that makes. */
  parts: number;
}

const MB = 1_000_000;

/**
 * How to call llama-gguf-split so that every part stays under the limit. Its size rule counts tensor bytes only, so the
 * header's size (all of it lands in the first part) is kept free in every part. Sizes go in whole decimal megabytes,
 * as the tool reads them; a limit under 1 MB (tests) falls back to a tensor count that keeps every part under it.
 */
export function splitPlan(params: SplitPlanParams): SplitPlan {
  const budget = params.maxFileBytes - params.headerBytes;
  const largest = Math.max(0, ...params.tensorBytes);
  if (largest > budget) {
    throw new PublishError({
      message: `cannot split under ${params.maxFileBytes} bytes per file: a tensor of ${largest} bytes plus the ${params.headerBytes}-byte header does not fit`,
      exitCode: 2,
      file: params.file,
      hint: "raise the per-file limit",
    });
  }
  if (budget >= MB) {
    const limit = Math.floor(budget / MB) * MB;
    if (largest <= limit) return { args: ["--split-max-size", `${limit / MB}M`], parts: partsBySize(params.tensorBytes, limit) };
  }
  for (let n = params.tensorBytes.length; n >= 1; n--) {
    if (groupSums(params.tensorBytes, n).every((sum) => sum <= budget)) return { args: ["--split-max-tensors", String(n)], parts: Math.ceil(params.tensorBytes.length / n) };
  }
  return { args: ["--split-max-tensors", "1"], parts: params.tensorBytes.length };
}

/** llama-gguf-split's size rule: a new part when the next tensor would take this one over the limit. */
function partsBySize(sizes: number[], limit: number): number {
  let parts = 1;
  let current = 0;
  for (const size of sizes) {
    if (current + size > limit && current > 0) {
      parts++;
      current = size;
    } else current += size;
  }
  return parts;
}

function groupSums(sizes: number[], n: number): number[] {
  const sums: number[] = [];
  for (let i = 0; i < sizes.length; i += n) sums.push(sizes.slice(i, i + n).reduce((a, b) => a + b, 0));
  return sums;
}
