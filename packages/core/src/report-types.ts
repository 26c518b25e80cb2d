/** One file the pipeline produced. */
export interface Artifact {
  /** Path relative to the output folder. */
  path: string;
  stage: string;
  sha256: string;
  bytes: number;
  /** `general.file_type` as llama.cpp names it (F32, F16, BF16, Q8_0, ...), for GGUF files. */
  ggufType?: string;
  /** The key of the content cache entry this artifact satisfies. */
  cacheKey: string;
  /** For quants: the llama-quantize type, bits per weight, and the importance matrix used (its file name). */
  quant?: { type: string; bitsPerWeight: number; imatrix?: string; shard?: { index: number; count: number } };
  /** Measured against the high-precision reference with llama-perplexity (stage evaluate). */
  quality?: Quality;
}

export interface Quality {
  /** Perplexity of this file on the evaluation text. */
  ppl: number;
  /** Mean and 99th percentile KL divergence from the reference's token distributions (0 for the reference). */
  kldMean: number;
  kldP99: number;
  /** Share of positions where the most likely token equals the reference's, in percent. */
  top1: number;
  /** The evaluation text's file name, context and chunk count. */
  text: string;
  ctx: number;
}

export interface StageTiming {
  stage: string;
  seconds: number;
  cached: boolean;
}

export interface ToolVersions {
  llamaCppCommit: string;
  llamaCppSource: string;
  python: string;
  packages: Record<string, string>;
  pipeline: string;
}

/** `report.json` in the output folder. */
export interface RunReport {
  schemaVersion: 1;
  recipe: { path: string; sha256: string };
  startedAt: string;
  finishedAt: string;
  tools: ToolVersions;
  stages: StageTiming[];
  artifacts: Artifact[];
  /** Files in the output folder that this run did not make (an earlier recipe's): not part of this run's results. */
  otherFiles?: string[];
  /** The license the outputs carry (general.license), where it comes from, and the files shipped with them. */
  license?: { id: string; name?: string; link?: string; from: string; files: string[]; warnings: string[] };
  /** Structural checks of every GGUF artifact, by path; a failed check not in `allowed` fails the run. */
  validation?: { allowed: string[]; files: Record<string, { ok: boolean; checks: { name: string; ok: boolean; fact: string }[] }> };
}
