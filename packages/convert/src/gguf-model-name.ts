export interface GgufModelNameParams {
  /** The recipe's name (also the files'). */
  name: string;
  /** config.json's architectures[0]. */
  architecture: string;
  /** The source folder's files. */
  files: string[];
}

/**
 * The general.name a GGUF gets. llama.cpp gives a Phi-3 (SentencePiece) vocabulary's special tokens their
 * whitespace rule (strip the space after them, as Phi-3's tokenizer does) only when general.name contains "phi3" or
 * "phi-3" (src/llama-vocab.cpp): a fine-tune named otherwise would tokenize its chat prompts differently. Its name
 * says "(Phi-3)" then, so llama.cpp sees what it needs; Phi-4 (the same architecture, a BPE vocabulary) is left alone.
 */
export function ggufModelName(params: GgufModelNameParams): string {
  const phi3 = /^Phi(3|MoE)/.test(params.architecture) && params.files.includes("tokenizer.model");
  return phi3 && !/phi-?3/i.test(params.name) ? `${params.name} (Phi-3)` : params.name;
}
