import { access } from "node:fs/promises";
import { resolve } from "node:path";
import type { LoadedRecipe, Recipe, RecipeProblem } from "@gguf-pipeline/core";
import { PublishError } from "../errors.js";
import { modelfileValueProblem } from "./modelfile.js";
import { ollamaNameProblem } from "./name.js";
import { checkOllamaParameters } from "./parameters.js";
import type { OllamaSettings } from "../publish-types.js";

export interface OllamaSettingsProblemsParams {
  settings: OllamaSettings;
  /** The recipe's adapters and merge choice: Ollama applies one adapter, at scale 1. */
  adapters?: Recipe["adapters"];
  merge?: boolean;
}

const at = ["publish", "ollama"];

/**
 * What is wrong with `publish.ollama` before any work: the name, the parameters (Ollama's names and types), tags and
 * latest, push without a namespace, and unmerged adapters Ollama cannot apply as the run does. Paths are JSON paths
 * into the recipe.
 */
export function ollamaSettingsProblems(params: OllamaSettingsProblemsParams): RecipeProblem[] {
  const { settings } = params;
  const problems: RecipeProblem[] = [];
  const nameProblem = ollamaNameProblem(settings.name);
  if (nameProblem) problems.push({ path: [...at, "name"], message: nameProblem, hint: 'e.g. "tiny", "me/tiny" or "registry.example.com/team/tiny"' });
  // A SYSTEM no Modelfile quoting carries fails before any work, not after the ladder.
  const system = settings.system !== undefined ? modelfileValueProblem("SYSTEM", settings.system) : undefined;
  if (system) problems.push({ path: [...at, "system"], message: system, hint: "reword it (no quote right before a line break, no control characters)" });
  for (const p of checkOllamaParameters(settings.parameters ?? {}).problems) problems.push({ path: [...at, "parameters", p.key], message: p.message, hint: p.hint });
  const seen = new Set<string>();
  for (const [i, tag] of (settings.tags ?? []).entries()) {
    const upper = tag.toUpperCase();
    if (!/^[A-Z0-9_]+$/.test(upper)) problems.push({ path: [...at, "tags", i], message: `"${tag}" is not a file type`, hint: 'list the types to publish, e.g. ["Q4_K_M", "Q8_0", "F16"]' });
    else if (seen.has(upper)) problems.push({ path: [...at, "tags", i], message: `${upper} is listed twice`, hint: "list each type once" });
    seen.add(upper);
  }
  if (settings.latest && settings.tags && !seen.has(settings.latest.toUpperCase())) {
    problems.push({ path: [...at, "latest"], message: `latest is ${settings.latest}, which publish.ollama.tags leaves out`, hint: `add it to tags or choose one of ${[...seen].join(", ")}` });
  }
  if (settings.push && settings.name.split("/").length === 1) {
    problems.push({ path: [...at, "name"], message: `push to ollama.com needs a namespace: "${settings.name}" would go to its library`, hint: `name it "<your ollama.com user>/${settings.name}", or "host:port/namespace/${settings.name}" for another registry` });
  }
  problems.push(...adapterProblems(params));
  return problems;
}

function adapterProblems(params: OllamaSettingsProblemsParams): RecipeProblem[] {
  const adapters = params.adapters ?? [];
  if (adapters.length === 0 || params.merge !== false) return [];
  if (adapters.length > 1) {
    return [{ path: ["adapters"], message: `Ollama applies one adapter per model and this recipe ships ${adapters.length} unmerged`, hint: 'set "merge": true to publish the merged model to Ollama, or publish one adapter per recipe' }];
  }
  const scale = adapters[0]?.scale ?? 1;
  if (scale !== 1) return [{ path: ["adapters", 0, "scale"], message: `Ollama applies an ADAPTER at scale 1, not ${scale}: its output would differ from this run's`, hint: 'set "merge": true (the scale is merged in), or scale 1' }];
  return [];
}

/**
 * RecipeCheck for loadRecipe: the problems above, plus a `template` file that cannot be read (relative to the recipe).
 */
export async function checkOllamaRecipe(loaded: LoadedRecipe): Promise<RecipeProblem[]> {
  const settings = loaded.recipe.publish?.ollama;
  if (!settings) return [];
  const problems = ollamaSettingsProblems({ settings, ...(loaded.recipe.adapters ? { adapters: loaded.recipe.adapters } : {}), ...(loaded.recipe.merge !== undefined ? { merge: loaded.recipe.merge } : {}) });
  if (settings.template) {
    const file = resolve(loaded.dir, settings.template);
    const missing = await access(file).then(
      () => false,
      () => true,
    );
    if (missing) problems.push({ path: [...at, "template"], message: `the template file ${file} cannot be read`, hint: "give a file with the Go template, relative to the recipe" });
  }
  return problems;
}

/** The first of ollamaSettingsProblems as a PublishError (exit 2), for callers without a loaded recipe. */
export function checkOllamaSettings(params: OllamaSettingsProblemsParams & { file?: string }): void {
  const first = ollamaSettingsProblems(params)[0];
  if (!first) return;
  const where = first.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("").slice(1);
  throw new PublishError({ message: `${where}: ${first.message}`, exitCode: 2, hint: first.hint, ...(params.file ? { file: params.file } : {}) });
}
