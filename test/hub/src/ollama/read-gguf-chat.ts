import { GGMLFileQuantizationType, gguf } from "@huggingface/gguf";

/** What the Hub takes from a GGUF's header for Ollama: the config's family and the chat template to convert. */
export interface GgufChatInfo {
  /** `general.architecture` ("llama"). */
  architecture: string;
  /** `general.file_type` by name ("Q8_0"), for a file whose name carries no quant label. */
  fileType?: string;
  /** `tokenizer.chat_template` (Jinja). */
  chatTemplate?: string;
  bosToken?: string;
  eosToken?: string;
}

function tokenText(tokens: unknown, id: unknown): string | undefined {
  if (!Array.isArray(tokens) || typeof id !== "number") return undefined;
  const text: unknown = tokens[id];
  return typeof text === "string" ? text : undefined;
}

/**
 * Reads the header of a stored GGUF with @huggingface/gguf (the parser the Hub's own GGUF metadata comes from): it
 * reads the file in ranges up to the end of the header, never the tensor data. BOS and EOS are token texts, as the
 * Hub's `gguf` model info gives them to @huggingface/ollama-utils.
 */
export async function readGgufChat(file: string): Promise<GgufChatInfo> {
  const { metadata } = await gguf(file, { allowLocalFile: true });
  const kv = metadata as unknown as Record<string, unknown>;
  const architecture = kv["general.architecture"];
  const fileType: unknown = typeof kv["general.file_type"] === "number" ? GGMLFileQuantizationType[kv["general.file_type"]] : undefined;
  const chatTemplate = kv["tokenizer.chat_template"];
  const tokens = kv["tokenizer.ggml.tokens"];
  const bosToken = tokenText(tokens, kv["tokenizer.ggml.bos_token_id"]);
  const eosToken = tokenText(tokens, kv["tokenizer.ggml.eos_token_id"]);
  return {
    architecture: typeof architecture === "string" ? architecture : "",
    ...(typeof fileType === "string" ? { fileType } : {}),
    ...(typeof chatTemplate === "string" ? { chatTemplate } : {}),
    ...(bosToken !== undefined ? { bosToken } : {}),
    ...(eosToken !== undefined ? { eosToken } : {}),
  };
}
