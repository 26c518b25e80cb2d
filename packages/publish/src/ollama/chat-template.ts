import { convertGGUFTemplateToOllama } from "@huggingface/ollama-utils";
import { chatShapes } from "@gguf-pipeline/core";
import { renderOllamaPrompt } from "./render-ollama-prompt.js";

export interface OllamaChatTemplateParams {
  /** The GGUF's `tokenizer.chat_template` (Jinja). */
  chatTemplate: string;
  bosToken?: string;
  eosToken?: string;
  /** Whether the tokenizer puts BOS in front of every prompt itself (`tokenizer.ggml.add_bos_token`). */
  addBos: boolean;
}

export interface OllamaChatTemplate {
  /** A Go template for Ollama's TEMPLATE. */
  template: string;
  /** The stop strings the conversion names (role markers), before the model's own EOS/EOT are added. */
  stop: string[];
  /** Other PARAMETERs Ollama's library uses for this template family (temperature, top_p ...). */
  parameters: Record<string, unknown>;
  /** `known`: one of Ollama's library templates matched; `converted`: rendered from the Jinja by the converter. */
  how: "known" | "converted";
  /**
   * For a `known` match that is not the library's template exactly (the matcher compares the first 128 characters, or
   * the special tokens): which family it was taken for, and where the model's own template first differs from it.
   */
  differs?: { family: string; at: number; theirs: string; ours: string };
  /** For a `known` match: the model's own Jinja converted instead, for a caller that finds it renders closer. */
  converted?: Omit<OllamaChatTemplate, "how" | "differs" | "converted">;
}

/**
 * The GGUF's Jinja chat template as an Ollama Go template, with @huggingface/ollama-utils (its table of Ollama's
 * library templates, then a conversion by rendering the Jinja with placeholder messages). Undefined when neither
 * works: the caller must then ask for a template, never guess one.
 *
 * One correction to the automatic conversion: the Jinja renders BOS at the start of the prompt, and the converter
 * keeps it only in the system branch (`{{ if .System }}<s>…`). llama.cpp drops a leading BOS from the rendered prompt
 * when the tokenizer adds one anyway; Ollama's tokenizer adds it too, so a BOS left in the template would be doubled
 * whenever a system message is set. It is dropped there (or, for a tokenizer that adds none, written unconditionally).
 */
export function ollamaChatTemplate(params: OllamaChatTemplateParams): OllamaChatTemplate | undefined {
  const mapped = convert(params.chatTemplate, params);
  if (!mapped) return undefined;
  const { template: raw, tokens, params: extra = {} } = mapped.ollama;
  // A conversion that never places the user's message is not a chat template (a Jinja that failed to render).
  if (!/\.(Prompt|Content)\b/.test(raw)) return undefined;
  const how = mapped.model === "auto-conversion" || mapped.model === "custom-matching" ? "converted" : "known";
  const template = how === "converted" && params.bosToken ? placeBos(raw, params.bosToken, params.addBos) : raw;
  const { stop, ...parameters } = extra as Record<string, unknown>;
  const stops = Array.isArray(stop) ? stop.filter((s): s is string => typeof s === "string") : turnBoundaries(template, tokens);
  const differs = how === "known" ? difference(mapped.model, mapped.gguf, params.chatTemplate) : undefined;
  // The library's matcher compares prefixes and special tokens; a comment naming a token no template has (it renders
  // nothing) makes it convert the model's own Jinja instead.
  const own = how === "known" ? ollamaChatTemplate({ ...params, chatTemplate: `{#- <|ggufpipelineown|> -#}${params.chatTemplate}` }) : undefined;
  const converted = own && own.how === "converted" ? { template: own.template, stop: own.stop.filter((t) => t !== "<|ggufpipelineown|>"), parameters: own.parameters } : undefined;
  return { template, stop: [...new Set(stops)], parameters, how, ...(differs ? { differs } : {}), ...(converted ? { converted } : {}) };
}

/**
 * Of a template's special tokens (all the library lists when it gives no stop strings), those that end a turn or open
 * one: found between the messages of a rendered conversation. A token the model writes inside its reply (`<think>`,
 * a tool call's markers) is no stop: a thinking model would end on its first token. Unrenderable: all of them.
 */
function turnBoundaries(template: string, tokens: string[]): string[] {
  const messages = chatShapes["[system, user, assistant, user]"] ?? [];
  let prompt: string;
  try {
    prompt = renderOllamaPrompt({ template, messages });
  } catch {
    return tokens;
  }
  const between: string[] = [];
  let from = 0;
  for (const message of messages) {
    const at = prompt.indexOf(message.content, from);
    if (at < 0) continue; // a template that leaves a system message out
    between.push(prompt.slice(from, at));
    from = at + message.content.length;
  }
  return tokens.filter((t) => between.some((part) => part.includes(t)));
}

function convert(chatTemplate: string, params: OllamaChatTemplateParams): ReturnType<typeof convertGGUFTemplateToOllama> {
  try {
    return convertGGUFTemplateToOllama({ chat_template: chatTemplate, ...(params.bosToken ? { bos_token: params.bosToken } : {}), ...(params.eosToken ? { eos_token: params.eosToken } : {}) });
  } catch {
    // It throws for templates it knows are not chat models (OuteTTS).
    return undefined;
  }
}

/** Where a model's Jinja first departs from the library template it was matched to (trailing whitespace aside). */
function difference(family: string, library: string, own: string): OllamaChatTemplate["differs"] {
  const [a, b] = [library.trimEnd(), own.trimEnd()];
  if (a === b) return undefined;
  let at = 0;
  while (at < a.length && at < b.length && a[at] === b[at]) at++;
  const around = (text: string) => JSON.stringify(text.slice(Math.max(0, at - 10), at + 30));
  return { family, at, theirs: around(a), ours: around(b) };
}

/** Moves a BOS that only the system branch renders: dropped when the tokenizer adds BOS, else written first always. */
function placeBos(template: string, bos: string, addBos: boolean): string {
  const systemFirst = /^(\{\{-? ?if \.System ?-?\}\})/.exec(template);
  const prefix = systemFirst?.[1] ?? "";
  if (!template.startsWith(prefix + bos)) return template;
  const rest = template.slice(prefix.length + bos.length);
  return addBos ? prefix + rest : bos + prefix + rest;
}
