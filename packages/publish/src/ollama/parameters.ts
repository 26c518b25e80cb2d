import { suggest } from "@gguf-pipeline/core";

/** How Ollama reads a PARAMETER: Go's `int`, `float32`, `bool` or `[]string` field of its Options. */
export type OllamaParameterType = "int" | "float" | "bool" | "strings";

/** A PARAMETER value as it goes to `/api/create` (and, one line per item, into a Modelfile). */
export type OllamaParameterValue = number | boolean | string[];

/**
 * Ollama v0.24.0's parameters: the json names of api.Options and api.Runner (api/types.go). Ollama itself stores an
 * unknown name or a mistyped value without a word (`"bogus": 1`, `num_ctx: "abc"`) and ignores it at run time.
 */
export const ollamaParameterTypes: Readonly<Record<string, OllamaParameterType>> = {
  num_ctx: "int",
  num_batch: "int",
  num_gpu: "int",
  main_gpu: "int",
  use_mmap: "bool",
  num_thread: "int",
  num_keep: "int",
  seed: "int",
  num_predict: "int",
  top_k: "int",
  top_p: "float",
  min_p: "float",
  typical_p: "float",
  repeat_last_n: "int",
  temperature: "float",
  repeat_penalty: "float",
  presence_penalty: "float",
  frequency_penalty: "float",
  stop: "strings",
};

/** Names Ollama once had and now skips with a warning (parser.deprecatedParameters). */
const deprecated = ["penalize_newline", "low_vram", "f16_kv", "logits_all", "vocab_only", "use_mlock", "mirostat", "mirostat_tau", "mirostat_eta"];

/** Parameters that must be at least 1 to mean anything (a context or batch of 0 tokens). */
const positive = new Set(["num_ctx", "num_batch"]);

export interface OllamaParameterProblem {
  /** The parameter's name as the recipe spells it. */
  key: string;
  message: string;
  hint: string;
}

export interface CheckOllamaParametersOutput {
  /** The valid parameters, `stop` always as a list. */
  values: Record<string, OllamaParameterValue>;
  problems: OllamaParameterProblem[];
}

/** Checks PARAMETER names and values against Ollama's own table, as `ollama create -f` would (and stricter on integers). */
export function checkOllamaParameters(parameters: Readonly<Record<string, unknown>>): CheckOllamaParametersOutput {
  const values: Record<string, OllamaParameterValue> = {};
  const problems: OllamaParameterProblem[] = [];
  const names = Object.keys(ollamaParameterTypes);
  for (const [key, value] of Object.entries(parameters)) {
    const type = ollamaParameterTypes[key];
    if (!type) {
      const guess = suggest(key, names);
      problems.push(
        deprecated.includes(key)
          ? { key, message: `Ollama no longer uses the parameter "${key}"`, hint: "remove it" }
          : { key, message: `"${key}" is not an Ollama parameter`, hint: guess ? `did you mean "${guess}"?` : `Ollama's parameters: ${names.join(", ")}` },
      );
      continue;
    }
    const checked = checkValue(key, type, value);
    if (typeof checked === "string") problems.push({ key, message: `${key} ${checked}`, hint: `give ${key} ${describe(type)}` });
    else values[key] = checked.value;
  }
  return { values, problems };
}

function checkValue(key: string, type: OllamaParameterType, value: unknown): { value: OllamaParameterValue } | string {
  const shown = typeof value === "number" ? String(value) : JSON.stringify(value);
  switch (type) {
    case "int":
      if (typeof value !== "number" || !Number.isSafeInteger(value)) return `must be an integer, not ${shown}`;
      if (positive.has(key) && value < 1) return `must be at least 1, not ${shown}`;
      return { value };
    case "float":
      return typeof value === "number" && Number.isFinite(value) ? { value } : `must be a number, not ${shown}`;
    case "bool":
      return typeof value === "boolean" ? { value } : `must be true or false, not ${shown}`;
    case "strings": {
      const list = typeof value === "string" ? [value] : value;
      if (!Array.isArray(list) || !list.every((s): s is string => typeof s === "string" && s.length > 0)) return `must be a string or a list of non-empty strings, not ${shown}`;
      return { value: list };
    }
  }
}

function describe(type: OllamaParameterType): string {
  return { int: "a whole number", float: "a number", bool: "true or false", strings: 'a string or a list of strings, e.g. ["</s>"]' }[type];
}
