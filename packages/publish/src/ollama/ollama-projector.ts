import { scanGguf } from "@gguf-pipeline/core";
import { LocalFileError } from "../errors.js";

export interface OllamaProjectorOutput {
  ok: boolean;
  /** The projector type (clip.projector_type). */
  type?: string;
  /** Why the Ollama models leave it out (not ok), or what to know about their answers to images (ok), in one line. */
  why: string;
}

/**
 * The projector types Ollama v0.24.0 answers images with, proven on a real `ollama serve` (test/e2e/vision.e2e.ts). A
 * model with a separate projector always runs on its llama.cpp runner (llm/server.go falls back from the Go engine:
 * "split vision models aren't supported"), which hands each image embedding one position: fine for these, wrong for
 * the Qwen2-VL family's multi-axis positions (M-RoPE).
 */
export const ollamaProjectorTypes: readonly string[] = ["gemma3", "idefics3"];

/** Whether Ollama's models of this run can carry its projector (a second FROM), from the projector's own header. */
export async function ollamaProjector(params: { file: string; label: string }): Promise<OllamaProjectorOutput> {
  const meta = (await scanGguf({ file: params.file }).catch((error: unknown) => {
    throw new LocalFileError({ file: params.label, message: `cannot read its GGUF header (${(error as Error).message})`, cause: error });
  })).metadata;
  const raw = meta["clip.vision.projector_type"] ?? meta["clip.projector_type"];
  const type = typeof raw === "string" ? raw : undefined;
  if (type && ollamaProjectorTypes.includes(type)) {
    // Measured on the fixtures: text prompts answer token for token as llama.cpp; image prompts part within a few tokens.
    return { ok: true, type, why: `${params.label}: Ollama v0.24.0 takes the projector (a second FROM) but feeds image embeddings to the model as plain tokens (causal, one position each) where llama.cpp's mtmd decodes them as the model was trained: its answers to images can differ from llama.cpp's — llama-server -hf answers as the model does` };
  }
  return {
    ok: false,
    ...(type ? { type } : {}),
    why: `${params.label}: Ollama v0.24.0 does not answer images with a ${type ?? "this"} projector (its llama.cpp runner, the only one that takes a separate projector, gives image embeddings the wrong positions for it), so the Ollama models are the text model alone — llama.cpp runs both (llama-server -hf, llama-mtmd-cli --mmproj)`,
  };
}
