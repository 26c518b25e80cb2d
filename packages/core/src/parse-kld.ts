import type { PerplexityQuality } from "./report/report-types.js";

/** The statistics block llama-perplexity prints with --kl-divergence (NaN for what it did not print). */
export function parseKld(out: string): Pick<PerplexityQuality, "ppl" | "kldMean" | "kldP99" | "top1"> & { kldSe: number } {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  return {
    ppl: num(/Mean PPL\(Q\)\s*:\s*([\d.]+)/),
    kldMean: num(/Mean\s+KLD:\s*(-?[\d.]+)/),
    kldSe: num(/Mean\s+KLD:\s*-?[\d.]+\s*±\s*([\d.]+)/),
    kldP99: num(/99\.0%\s+KLD:\s*(-?[\d.]+)/),
    top1: num(/Same top p:\s*([\d.]+)/),
  };
}
