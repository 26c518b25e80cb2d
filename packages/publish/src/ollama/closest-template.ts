import { chatShapes, type RunReport } from "@gguf-pipeline/core";
import { promptParity } from "./prompt-parity.js";
import { renderOllamaPrompt } from "./render-ollama-prompt.js";
import { repairTemplate } from "./repair-template.js";

export interface TemplateCandidate {
  template: string;
  stop: string[];
  parameters: Record<string, unknown>;
  /** Where it came from, for the plan's line. */
  from: string;
}

export interface ClosestTemplateParams {
  /** In order of preference: on a tie the earlier wins (Ollama's library template before a conversion). */
  candidates: TemplateCandidate[];
  /** The recipe's SYSTEM, if any. */
  system?: string;
  /** The model's own renderings (report.json's validation.chat). */
  chat: NonNullable<NonNullable<RunReport["validation"]>["chat"]>;
}

/**
 * The candidate TEMPLATE that renders the most chat shapes as the model's own template does (each tried with the
 * model's default system turn as SYSTEM too). Each candidate is also tried over `.Messages` when it is in the legacy
 * `.Prompt`/`.Response` form (Ollama renders that form turn by turn, each turn with the whole template), and with its
 * leading `{{ if .System }}…{{ end }}` block written always: a template that writes its system block when a chat has
 * none (Llama 3.x's dated lines) is matched by that.
 */
export function closestTemplate(params: ClosestTemplateParams): TemplateCandidate {
  const tried = params.candidates.flatMap((c) => {
    const messages = messagesForm(c.template);
    const forms = messages ? [c, { ...c, template: messages, from: `${c.from}, over .Messages` }] : [c];
    return forms.flatMap((f) => {
      const always = systemBlockAlways(f.template);
      return always ? [f, { ...f, template: always, from: `${f.from}, its system block written always as the model's template does` }] : [f];
    });
  });
  // Prompts that all end otherwise by the same text after the assistant's header: the model's own added (DeepSeek-R1's
  // "<think>\n"), or the template's own last such text taken out (a library Qwen3 template's "<think>\n" prefill).
  for (const candidate of [...tried]) {
    const end = commonEnding(candidate.template, params);
    if (end?.add) tried.push({ ...candidate, template: `${candidate.template}${afterLastUser(end.add)}`, from: `${candidate.from}, with the model's ${JSON.stringify(end.add)} after the last user turn` });
    const at = end?.drop ? (candidate.template.endsWith(end.drop) ? candidate.template.length - end.drop.length : candidate.template.lastIndexOf(`${end.drop}{{`)) : -1;
    if (end?.drop && at >= 0) tried.push({ ...candidate, template: candidate.template.slice(0, at) + candidate.template.slice(at + end.drop.length), from: `${candidate.from}, without its ${JSON.stringify(end.drop)} after the last user turn` });
  }
  let best = tried[0];
  let fewest = Infinity;
  for (const candidate of tried) {
    const n = misses(candidate.template, params);
    if (n < fewest) [best, fewest] = [candidate, n];
  }
  if (!best) throw new Error("closestTemplate: no candidates");
  if (fewest === 0) return best;
  // Still other prompts: the best with the fewest edits that make more of them the model's (tools and thinking kept).
  for (const system of new Set([params.system, params.system ? undefined : params.chat.defaultSystem])) {
    const repaired = repairTemplate({ template: best.template, ...(system ? { system } : {}), shapes: params.chat.shapes });
    if (repaired && misses(repaired.template, params) < fewest) {
      const from: string = best.from;
      best = { ...best, template: repaired.template, from: `${from}, ${repaired.changes.join(", ")}` };
      fewest = misses(best.template, params);
    }
  }
  return best;
}

/** The text every model prompt has after this template's (`add`), or this template's after the model's (`drop`). */
function commonEnding(template: string, params: ClosestTemplateParams): { add?: string; drop?: string } | undefined {
  if (!template.includes(".Messages")) return undefined;
  let add: string | undefined;
  let drop: string | undefined;
  for (const [shape, messages] of Object.entries(chatShapes)) {
    const model = params.chat.shapes[shape];
    if (model === null || model === undefined) continue;
    let ours: string;
    try {
      ours = renderOllamaPrompt({ template, ...(params.system ? { system: params.system } : {}), messages });
    } catch {
      return undefined;
    }
    if (model === ours) return undefined;
    if (model.startsWith(ours) && (add ?? model.slice(ours.length)) === model.slice(ours.length) && drop === undefined) add = model.slice(ours.length);
    else if (ours.startsWith(model) && (drop ?? ours.slice(model.length)) === ours.slice(model.length) && add === undefined) drop = ours.slice(model.length);
    else return undefined;
  }
  if (add?.includes("{{") || drop?.includes("{{")) return undefined;
  return add || drop ? { ...(add ? { add } : {}), ...(drop ? { drop } : {}) } : undefined;
}

/** Template text written after the last message when it is not the assistant's (a reply being continued). */
function afterLastUser(text: string): string {
  return `{{ range $i, $_ := .Messages }}{{ if eq (len (slice $.Messages $i)) 1 }}{{ if ne .Role "assistant" }}${text}{{ end }}{{ end }}{{ end }}`;
}

function misses(template: string, params: ClosestTemplateParams): number {
  const { chat } = params;
  const plain = promptParity({ template, ...(params.system ? { system: params.system } : {}), shapes: chat.shapes }).differs.length;
  const fallback = chat.defaultSystem && !params.system ? promptParity({ template, system: chat.defaultSystem, shapes: chat.shapes }).differs.length : plain;
  return Math.min(plain, fallback);
}

/** The template with its leading system block unconditional, when it starts with one that holds no other action. */
function systemBlockAlways(template: string): string | undefined {
  const found = /^\{\{-? ?if \.System ?-?\}\}((?:(?!\{\{-? ?(?:if|range|with|end)\b)[\s\S])*)\{\{-? ?end ?-?\}\}/.exec(template);
  return found ? `${found[1] ?? ""}${template.slice(found[0].length)}` : undefined;
}

/**
 * A legacy template `{{ if .System }}A{{ .System }}B{{ end }}{{ if .Prompt }}C{{ .Prompt }}D{{ end }}E{{ .Response }}F`
 * (what the converter writes) over `.Messages`: the system block once, then user turns as C…D, assistant turns as E…F,
 * and E after a last user turn. No whitespace-trimming actions: the parts' own newlines stay.
 */
function messagesForm(template: string): string | undefined {
  const legacy = /^\{\{ ?if \.System ?\}\}([^{}]*)\{\{ ?\.System ?\}\}([^{}]*)\{\{ ?end ?\}\}\{\{ ?if \.Prompt ?\}\}([^{}]*)\{\{ ?\.Prompt ?\}\}([^{}]*)\{\{ ?end ?\}\}([^{}]*)\{\{ ?\.Response ?\}\}([^{}]*)$/.exec(template);
  if (!legacy) return undefined;
  const [, a, b, c, d, e, f] = legacy;
  return [
    `{{ if .System }}${a}{{ .System }}${b}{{ end }}`,
    "{{ range $i, $_ := .Messages }}{{ $last := eq (len (slice $.Messages $i)) 1 }}",
    `{{ if eq .Role "user" }}${c}{{ .Content }}${d}{{ if $last }}${e}{{ end }}`,
    `{{ else if eq .Role "assistant" }}${e}{{ .Content }}{{ if not $last }}${f}{{ end }}{{ end }}{{ end }}`,
  ].join("");
}
