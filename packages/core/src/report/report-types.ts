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
  quant?: { type: string; bitsPerWeight: number; imatrix?: string; shard?: { index: number; count: number }; mix?: MixFacts };
  /** Measured against the high-precision reference with llama-perplexity (stage evaluate). */
  quality?: Quality;
}

/** A mix's facts (a rung asked for by size): what it was asked to be, the tensor types that make it, what was predicted. */
export interface MixFacts {
  targetBytes: number;
  targetBpw: number;
  /** For a mix asked for by memory budget: the budget and the context it was judged at (targetBytes follows from them). */
  fit?: { budget: string; ctx: number };
  /** The llama-quantize --tensor-type-file beside it. */
  tensorTypes: string;
  /** The size and mean KLD the allocation predicted (the measured KLD is the artifact's quality). */
  predictedBytes: number;
  predictedKld: number;
}

/** How close a quant is to the reference: token distributions for a text-generation model, vectors for an embedding model. */
export type Quality = PerplexityQuality | EmbeddingQuality;

export interface PerplexityQuality {
  kind?: "perplexity";
  /** Perplexity of this file on the evaluation text. */
  ppl: number;
  /** Mean and 99th percentile KL divergence from the reference's token distributions (0 for the reference). */
  kldMean: number;
  kldP99: number;
  /** Share of positions where the most likely token equals the reference's, in percent. */
  top1: number;
  /** The standard error of kldMean as llama-perplexity reports it (each scored token counted as one sample). */
  kldSe?: number;
  /** How many ctx-sized chunks of the text were measured (evaluate stops adding them at its precision). */
  chunks?: number;
  /** The evaluation text's file name, context and chunk count. */
  text: string;
  ctx: number;
}

export interface EmbeddingQuality {
  kind: "embedding";
  /** Mean and lowest cosine similarity of this file's embeddings to the reference's, over the evaluation text's passages. */
  cosineMean: number;
  cosineMin: number;
  /** How many passages were embedded. */
  passages: number;
  text: string;
  ctx: number;
}

/** One GGUF's validation: every check with the fact behind it, and what kind of model it is. */
export interface FileValidation {
  ok: boolean;
  checks: { name: string; ok: boolean; fact: string }[];
  /** text-generation or embedding (models only; adapters and importance matrices have none). */
  kind?: "text-generation" | "embedding";
  /** Memory to run it at a few contexts: llama.cpp's own projection (llama-fit-params) and our estimate, flash attention on. */
  memory?: MemoryAtContext[];
}

export interface MemoryAtContext {
  ctx: number;
  /** llama-fit-params: model + context + compute buffers, whole MiB per device. */
  projectedBytes?: number;
  /** estimateMemory from the header: weights + KV cache + output + compute (and a vision model's projector). */
  estimatedBytes: number;
  /** For a vision-language model: the projector's weights, counted in both figures (llama.cpp loads it beside). */
  projectorBytes?: number;
  /** For a vision-language model: its image encoder's compute buffer (libmtmd's, for one image), counted in both figures. */
  imageComputeBytes?: number;
}

/** report.json's `validation`: every GGUF artifact by path; a failed check not in `allowed` fails the run. */
export interface ValidationSection {
  allowed: string[];
  files: Record<string, FileValidation>;
  /**
   * The source's own chat template rendered by transformers for a few conversations (`[user]`, `[system, user]`, …,
   * with the generation prompt, without a leading BOS; null where it refuses one), and the system turn it writes when a
   * chat has none: what an Ollama Modelfile's template is held to. `refusals`: why it refuses a conversation.
   */
  chat?: { shapes: Record<string, string | null>; defaultSystem?: string; refusals?: Record<string, string> };
}

export interface StageTiming {
  stage: string;
  seconds: number;
  cached: boolean;
}

export interface ToolVersions {
  llamaCppCommit: string;
  llamaCppSource: string;
  /** The build the tools ran from, as proven on this CPU: its key, what ggml says it uses, what it is made without. */
  llamaCppBuild?: { key?: string; uses: string[]; without: string[] };
  python: string;
  packages: Record<string, string>;
  pipeline: string;
}

/** `report.json` in the output folder. */
export interface RunReport {
  schemaVersion: 1;
  /**
   * The recipe that made the run: its file, its bytes' sha256, and `runKey`, the key of everything in it but where the
   * run is published (`publish`, `$schema`): two recipes that differ only in where they publish made the same run.
   */
  recipe: { path: string; sha256: string; runKey?: string };
  startedAt: string;
  finishedAt: string;
  tools: ToolVersions;
  stages: StageTiming[];
  artifacts: Artifact[];
  /** Set when this is one part of a run fanned out across machines (`run --only`): gather the parts to finish it. */
  part?: string;
  /** Files in the output folder that this run did not make (an earlier recipe's): not part of this run's results. */
  otherFiles?: string[];
  /** The license the outputs carry (general.license), where it comes from, and the files shipped with them. */
  license?: { id: string; name?: string; link?: string; from: string; files: string[]; warnings: string[] };
  /** Structural checks of every GGUF artifact, by path; a failed check not in `allowed` fails the run. */
  validation?: ValidationSection;
  /** Where the results were published (never a token). */
  published?: PublishedSection;
  /** When the recipe chose its quants by budget: what was chosen for each budget (or KL divergence bound), and why. */
  quantChoice?: QuantChoiceRecord[];
}

export interface QuantChoiceRecord {
  budget?: string;
  maxKld?: number;
  type: string;
  ctx: number;
  /** Memory the chosen file needs at ctx (our estimate from its header, within 1% of llama.cpp's buffers). */
  needBytes: number;
  /** What the budget leaves for the model once the margin and the reserve are kept free. */
  allowedBytes?: number;
  kldMean?: number;
  /** The better candidates passed over, each with its reason. */
  passedOver: string[];
  /** The choice's cache key (what it was made from and asked): a run that gathers the parts takes the choice by it. */
  key?: string;
}

/** What a publish did: per target, the remote and every file's fate. */
export interface PublishedSection {
  hf?: HubPublication[];
  ollama?: OllamaPublication;
}

export interface HubPublication {
  repo: string;
  /** The Hub's address (HF_ENDPOINT or the public Hub). */
  endpoint: string;
  branch: string;
  /** The commit made, or none when nothing changed. */
  commit?: { oid: string; url: string };
  pullRequestUrl?: string;
  files: { path: string; action: "add" | "update" | "unchanged" | "delete"; bytes: number; sha256?: string }[];
  uploadedBytes: number;
  /** Written into this folder (relative to the output folder) instead of sent: publish.hf.folder. */
  folder?: string;
}

export interface OllamaPublication {
  /** The folder of Modelfile folders (one per tag), relative to the output folder. */
  folder: string;
  /** The server the tags were created on, if any. */
  host?: string;
  tags: { tag: string; file: string; folder: string; created: boolean; pushed: boolean }[];
  uploadedBlobs: number;
}
