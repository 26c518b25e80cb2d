/** The llama.cpp programs the stages call, by our name → binary name. */
export const llamaTools = {
  quantize: "llama-quantize",
  imatrix: "llama-imatrix",
  exportLora: "llama-export-lora",
  ggufSplit: "llama-gguf-split",
  perplexity: "llama-perplexity",
  completion: "llama-completion",
  /** Greedy generation printed with plain stdio: what tests compare token for token. */
  simple: "llama-simple",
  tokenize: "llama-tokenize",
  /** Embeddings of an embedding model (pooled, normalised): its smoke test and evaluation. */
  embedding: "llama-embedding",
  /** llama.cpp's own memory projection for a model at a context (the same code as `--fit`). */
  fitParams: "llama-fit-params",
  /** A vision-language model with its projector, given an image: the projector's smoke test. */
  mtmdCli: "llama-mtmd-cli",
} as const;

/** Tools only some models need: a user's llama.cpp without them still runs everything else. */
export const optionalLlamaTools: readonly LlamaToolName[] = ["mtmdCli"];

export type LlamaToolName = keyof typeof llamaTools;

/** The Python scripts that come with the same llama.cpp source. */
export const llamaScripts = {
  convertHf: "convert_hf_to_gguf.py",
  convertLora: "convert_lora_to_gguf.py",
} as const;

export type LlamaScriptName = keyof typeof llamaScripts;

export interface Toolchain {
  /** `managed`: built by us from the pin; `user`: a llama.cpp the user pointed at. */
  source: "managed" | "user";
  /** The llama.cpp source tree: converters and gguf-py. */
  llamaCppDir: string;
  binDir: string;
  /** A Python with torch, transformers, sentencepiece, numpy, safetensors. */
  python: string;
  /** llama.cpp git commit (or `unknown` for a user tree that is not a git checkout). */
  commit: string;
  tools: Record<LlamaToolName, string>;
  scripts: Record<LlamaScriptName, string>;
  /** How the build was proven on this CPU: its self-test, what it uses, and what was turned off and why. */
  proof?: ToolchainProof;
}

export interface ToolchainProof {
  /** The managed build's key (it names what the build is made without). */
  buildKey?: string;
  /** What ggml says the build uses: `AVX2`, `AVX512`, `AMX_INT8`, … */
  features: string[];
  turnedOff: { feature: string; why: string }[];
  /** When its self-test passed on this CPU. */
  selfTestAt: string;
}
