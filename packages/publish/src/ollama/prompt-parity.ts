import { chatShapes } from "@gguf-pipeline/core";
import { renderOllamaPrompt } from "./render-ollama-prompt.js";

export interface PromptParityParams {
  /** The Modelfile's TEMPLATE and SYSTEM. */
  template: string;
  system?: string;
  /** The source's chat template rendered by transformers for each shape (report.json's validation.chat.shapes). */
  shapes: Record<string, string | null>;
}

export interface PromptParityOutput {
  /** The shapes Ollama renders otherwise, each with where it first differs. */
  differs: { shape: string; at: number; ollama: string; model: string }[];
  /** The shapes compared (the model's template renders them). */
  compared: string[];
}

/** Renders each chat shape as `ollama serve` would with this TEMPLATE and SYSTEM, and compares with the model's own. */
export function promptParity(params: PromptParityParams): PromptParityOutput {
  const differs: PromptParityOutput["differs"] = [];
  const compared: string[] = [];
  for (const [shape, messages] of Object.entries(chatShapes)) {
    const model = params.shapes[shape];
    if (model === null || model === undefined) continue;
    compared.push(shape);
    let ollama: string;
    try {
      ollama = renderOllamaPrompt({ template: params.template, ...(params.system ? { system: params.system } : {}), messages });
    } catch (error) {
      differs.push({ shape, at: 0, ollama: `(does not render: ${(error as Error).message})`, model: model.slice(0, 40) });
      continue;
    }
    if (ollama === model) continue;
    let at = 0;
    while (at < ollama.length && at < model.length && ollama[at] === model[at]) at++;
    differs.push({ shape, at, ollama: ollama.slice(Math.max(0, at - 10), at + 30), model: model.slice(Math.max(0, at - 10), at + 30) });
  }
  return { differs, compared };
}
