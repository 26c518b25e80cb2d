import { chatShapes } from "@gguf-pipeline/core";
import { renderOllamaPrompt } from "./render-ollama-prompt.js";

export interface RepairTemplateParams {
  /** A Go template over `.Messages` (Ollama's library template, say) that renders some of the model's prompts otherwise. */
  template: string;
  /** The Modelfile's SYSTEM, if any. */
  system?: string;
  /** The model's own renderings of each chat shape (report.json's validation.chat.shapes). */
  shapes: Record<string, string | null>;
}

export interface RepairedTemplate {
  template: string;
  /** What was changed, for the run's line: "without its "\n\n" after the system message", … */
  changes: string[];
}

/** At most this many edits: a template that needs more is not the model's format with a slip, and is left as it is. */
const MAX_EDITS = 4;

/**
 * The template with the fewest edits that make it render more of the model's prompts, each edit kept only when it
 * makes more conversations equal: the system message moved into the user turn the model's template writes it in
 * (Mistral's last `[INST]`), and text the template writes that the model's does not taken out (a library template's
 * blank line after the system message, its `<think>\n` prefill). Everything else — tool calls, thinking — stays.
 * Undefined when no edit helps.
 */
export function repairTemplate(params: RepairTemplateParams): RepairedTemplate | undefined {
  let template = params.template;
  let fewest = misses(template, params);
  const changes: string[] = [];
  const moved = moveSystem(template, params.shapes);
  if (moved && misses(moved.template, params) < fewest) {
    template = moved.template;
    fewest = misses(template, params);
    changes.push(moved.change);
  }
  while (fewest > 0 && changes.length < MAX_EDITS) {
    let best: { template: string; n: number; extra: string } | undefined;
    for (const extra of extraTexts(template, params)) {
      for (const at of literalOccurrences(template, extra)) {
        const edited = template.slice(0, at) + template.slice(at + extra.length);
        const n = misses(edited, params);
        if (n < (best?.n ?? fewest)) best = { template: edited, n, extra };
      }
      if (best) break; // the shortest extra text that helps
    }
    if (!best) break;
    ({ template, n: fewest } = best);
    changes.push(`without its ${JSON.stringify(best.extra)}`);
  }
  return changes.length ? { template, changes } : undefined;
}

function render(template: string, system: string | undefined, shape: string): string | undefined {
  try {
    return renderOllamaPrompt({ template, ...(system ? { system } : {}), messages: chatShapes[shape] ?? [] });
  } catch {
    return undefined;
  }
}

function misses(template: string, params: RepairTemplateParams): number {
  return Object.entries(params.shapes).filter(([shape, model]) => model !== null && render(template, params.system, shape) !== model).length;
}

/**
 * At the first place the first differing conversation differs: the texts ours has there that the model's has not
 * (ours then goes on as the model's does), shortest first.
 */
function extraTexts(template: string, params: RepairTemplateParams): string[] {
  for (const [shape, model] of Object.entries(params.shapes)) {
    const ours = model === null ? undefined : render(template, params.system, shape);
    if (model === null || ours === undefined || ours === model) continue;
    let at = 0;
    while (at < ours.length && at < model.length && ours[at] === model[at]) at++;
    const rest = model.slice(at);
    const n = Math.min(24, rest.length);
    const found: string[] = [];
    for (let k = 1; k <= Math.min(64, ours.length - at); k++) {
      if (ours.length - at - k >= n && ours.slice(at + k, at + k + n) === rest.slice(0, n)) found.push(ours.slice(at, at + k));
    }
    return found;
  }
  return [];
}

/** Where the text occurs in the template's literal text (outside its `{{ }}` actions). */
function literalOccurrences(template: string, text: string): number[] {
  const actions = [...template.matchAll(/\{\{[\s\S]*?\}\}/g)].map((m) => [m.index, m.index + m[0].length] as const);
  const found: number[] = [];
  for (let at = template.indexOf(text); at >= 0; at = template.indexOf(text, at + 1)) {
    if (!actions.some(([from, to]) => at < to && at + text.length > from)) found.push(at);
  }
  return found;
}

/**
 * Where the model's template writes the system message inside a user turn (`[INST]system\n\nuser[/INST]`): the
 * template with its own system output taken out (a leading `{{ if .System }}…{{ end }}` block, or its system-role
 * branch) and the system text written before that user turn's content, with the model's separator.
 */
function moveSystem(template: string, shapes: Record<string, string | null>): { template: string; change: string } | undefined {
  const [alone, withSystem, long] = [shapes["[user]"], shapes["[system, user]"], shapes["[system, user, assistant, user]"]];
  const [system, first, last] = [chatShapes["[system, user]"]?.[0]?.content, chatShapes["[user]"]?.[0]?.content, chatShapes["[system, user, assistant, user]"]?.[3]?.content];
  if (!alone || !withSystem || !system || !first || !last) return undefined;
  const before = alone.slice(0, alone.indexOf(first));
  const found = new RegExp(`^${escape(before)}${escape(system)}([^]{0,16}?)${escape(first)}`).exec(withSystem);
  if (!found) return undefined;
  const separator = found[1] ?? "";
  const inLast = Boolean(long?.includes(`${system}${separator}${last}`));
  const range = /range (\$\w+), \$\w* ?:= \.Messages/.exec(template)?.[1];
  const userContent = /eq (\$\w+)?\.Role "user" ?-?\}\}[\s\S]*?(\{\{-? ?(\$\w+)?\.Content ?-?\}\})/.exec(template);
  if (!range || !userContent?.[2]) return undefined;
  const when = inLast ? `(eq (len (slice $.Messages ${range})) 1)` : `(eq ${range} 1)`;
  const at = userContent.index + userContent[0].length - userContent[2].length;
  let moved = `${template.slice(0, at)}{{ if and $.System ${when} }}{{ $.System }}${separator}{{ end }}${template.slice(at)}`;
  const block = /^(\{\{-? ?if (?:or )?\.System[^}]*\}\})/.exec(moved);
  const branch = /(\{\{-? ?(?:else )?if eq (?:\$\w+)?\.Role "system" ?-?\}\})((?:(?!\{\{-? ?(?:if|range|with)\b)[\s\S])*?)(\{\{-? ?else)/.exec(moved);
  if (branch) moved = moved.replace(branch[0], `${branch[1]}${branch[3]}`);
  else if (block) moved = moved.replace(/^\{\{-? ?if \.System ?-?\}\}(?:(?!\{\{-? ?(?:if|range|with|end)\b)[\s\S])*\{\{-? ?end ?-?\}\}/, "");
  else return undefined;
  return { template: moved, change: `with the system message in the ${inLast ? "last" : "first"} user turn, as the model's template writes it` };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
