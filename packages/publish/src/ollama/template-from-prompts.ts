import { chatShapes } from "@gguf-pipeline/core";
import { renderOllamaPrompt } from "./render-ollama-prompt.js";

export interface TemplateFromPromptsOutput {
  /** A Go template over `.Messages`. */
  template: string;
  /** The texts that end a turn: Ollama's stop strings. */
  stop: string[];
}

/**
 * An Ollama template written from the model's own prompts (transformers' renderings of the chat shapes), for a Jinja
 * template no converter can turn into Go (SmolVLM's takes typed message parts): the text before the first user
 * message, around each user and assistant message and after the last, and the system turn, read off the renderings.
 * Only when it renders every shape exactly as the model does; no tool calls (the shapes have none).
 */
export function templateFromPrompts(params: { shapes: Record<string, string | null> }): TemplateFromPromptsOutput | undefined {
  const s = params.shapes;
  const [alone, turns, withSystem] = [s["[user]"], s["[user, assistant, user]"], s["[system, user]"]];
  const [q1, a1, q2] = (chatShapes["[user, assistant, user]"] ?? []).map((m) => m.content);
  const system = chatShapes["[system, user]"]?.[0]?.content;
  if (!alone || !turns || !q1 || !a1 || !q2 || !system) return undefined;
  // [user]: pre1 q1 post1; [user, assistant, user]: pre1 q1 mid1 a1 mid2 q2 post1.
  const first = around(alone, q1);
  const second = around(turns, q1);
  const third = second && around(second[1], a1);
  const fourth = third && around(third[1], q2);
  if (!first || !third || !fourth) return undefined;
  const [pre1, post1] = first;
  const [mid1, mid2] = [third[0], fourth[0]];
  const userPrefix = commonSuffix(pre1, mid2);
  const begin = pre1.slice(0, pre1.length - userPrefix.length);
  const assistantEnd = mid2.slice(0, mid2.length - userPrefix.length);
  const userEnd = commonPrefix(post1, mid1);
  const generation = post1.slice(userEnd.length);
  const assistantPrefix = mid1.slice(userEnd.length);
  // The system turn: between the beginning and the first user turn, when the model writes one of its own.
  let systemBlock = "";
  if (withSystem) {
    const at = withSystem.indexOf(system);
    const rest = withSystem.slice(at + system.length);
    const tail = alone.slice(begin.length);
    if (at < begin.length || !withSystem.startsWith(begin) || !rest.endsWith(tail)) return undefined;
    systemBlock = `{{ if .System }}${withSystem.slice(begin.length, at)}{{ .System }}${rest.slice(0, rest.length - tail.length)}{{ end }}`;
  }
  const parts = [begin, userPrefix, userEnd, generation, assistantPrefix, assistantEnd];
  if (parts.some((p) => p.includes("{{") || p.includes("}}"))) return undefined;
  const template = [
    begin,
    systemBlock,
    "{{ range $i, $_ := .Messages }}{{ $last := eq (len (slice $.Messages $i)) 1 }}",
    `{{ if eq .Role "user" }}${userPrefix}{{ .Content }}${userEnd}{{ if $last }}${generation}{{ end }}`,
    `{{ else if eq .Role "assistant" }}${assistantPrefix}{{ .Content }}{{ if not $last }}${assistantEnd}{{ end }}{{ end }}{{ end }}`,
  ].join("");
  for (const [shape, messages] of Object.entries(chatShapes)) {
    const model = s[shape];
    if (model === null || model === undefined) continue;
    if (renderOllamaPrompt({ template, messages }) !== model) return undefined;
  }
  // What ends a turn: its first line ("<end_of_utterance>" of "<end_of_utterance>\nAssistant:").
  const stop = [...new Set([userEnd, assistantEnd].map((t) => t.split("\n").find((line) => line.trim())?.trim() ?? "").filter((t) => t.length > 0))];
  return { template, stop };
}

/** The text before and after the first occurrence of `part` (undefined when it does not occur). */
function around(text: string, part: string): [string, string] | undefined {
  const at = text.indexOf(part);
  return at < 0 ? undefined : [text.slice(0, at), text.slice(at + part.length)];
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}

function commonSuffix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[a.length - 1 - i] === b[b.length - 1 - i]) i++;
  return a.slice(a.length - i);
}
