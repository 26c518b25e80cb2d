import type { OllamaParameterValue } from "./parameters.js";

/** /api/show's answer, the parts a publish compares. */
export interface OllamaShowResponse {
  modelfile?: string;
  template?: string;
  system?: string;
  license?: string;
  /** One `name<spaces>value` line per value, values in Go syntax (`%#v`). */
  parameters?: string;
}

/** The body of POST /api/create as Ollama v0.24.0 reads it (api.CreateRequest): files by blob digest, not by path. */
export interface OllamaCreateRequest {
  model: string;
  /** File name → `sha256:<hex>` of a blob already on the server. */
  files: Record<string, string>;
  adapters?: Record<string, string>;
  template?: string;
  system?: string;
  parameters?: Record<string, OllamaParameterValue>;
  license?: string[];
}

/**
 * Whether the model on the server is already what `request` would create: the same model and adapter blobs, template,
 * system, license and parameters. Anything /api/show shows in a form this cannot read back counts as different (the
 * cost of a wrong "different" is a re-create from blobs already there; of a wrong "same", a stale model).
 */
export function sameAsShown(shown: OllamaShowResponse, request: OllamaCreateRequest): boolean {
  const modelfile = shown.modelfile ?? "";
  const digests = (command: string) => [...modelfile.matchAll(new RegExp(`^${command} .*sha256[-:]([0-9a-f]{64})\\s*$`, "gm"))].map((m) => `sha256:${m[1] ?? ""}`).sort();
  const wanted = (files: Record<string, string> | undefined) => Object.values(files ?? {}).sort();
  if (!equalLists(digests("FROM"), wanted(request.files)) || !equalLists(digests("ADAPTER"), wanted(request.adapters))) return false;
  // Without a TEMPLATE (an embedding model) Ollama keeps its default; only ours is compared.
  if (request.template !== undefined && (shown.template ?? "") !== request.template) return false;
  if ((shown.system ?? "") !== (request.system ?? "")) return false;
  if ((shown.license ?? "") !== (request.license ?? []).join("\n")) return false;
  const parameters = parseShownParameters(shown.parameters ?? "");
  return parameters !== undefined && sameParameters(parameters, request.parameters ?? {});
}

/** `stop "</s>"` lines → `{ stop: ["</s>"] }`; undefined when a value is not plain JSON-compatible Go syntax. */
export function parseShownParameters(text: string): Record<string, unknown[]> | undefined {
  const out: Record<string, unknown[]> = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const match = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!match?.[1] || match[2] === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(match[2]);
    } catch {
      return undefined;
    }
    (out[match[1]] ??= []).push(value);
  }
  return out;
}

function sameParameters(shown: Record<string, unknown[]>, wanted: Record<string, OllamaParameterValue>): boolean {
  const keys = new Set([...Object.keys(shown), ...Object.keys(wanted)]);
  for (const key of keys) {
    const value = wanted[key];
    const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
    const there = shown[key] ?? [];
    // /api/show walks a Go map: the order of keys varies, the order within a list (stop) is kept.
    if (!equalLists(there, list)) return false;
  }
  return true;
}

function equalLists(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
