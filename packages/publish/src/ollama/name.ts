/**
 * Why `name` cannot be an Ollama model name without a tag, or undefined when it can: `[host/][namespace/]model`, the
 * parts as Ollama's types/model/name.go accepts them. A tag is refused because the publish adds one per file.
 */
export function ollamaNameProblem(name: string): string | undefined {
  const parts = name.split("/");
  const model = parts.at(-1) ?? "";
  if (model.includes(":")) return `"${name}" already has a tag (":${model.split(":").pop() ?? ""}"): the publish adds one per file (":q4_k_m", ":latest")`;
  if (parts.length > 3) return `"${name}" has ${parts.length} parts: Ollama names are [host/][namespace/]model`;
  const [host, namespace] = parts.length === 3 ? [parts[0], parts[1]] : [undefined, parts.length === 2 ? parts[0] : undefined];
  if (!validPart(model, /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/)) return `"${model}" is not a valid Ollama model name (letters, digits, "_", "-", "."; at most 80)`;
  if (namespace !== undefined && !validPart(namespace, /^[A-Za-z0-9_][A-Za-z0-9_-]*$/)) return `"${namespace}" is not a valid Ollama namespace (letters, digits, "_", "-"; no ".")`;
  if (host !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,349}$/.test(host)) return `"${host}" is not a valid registry host`;
  return undefined;
}

function validPart(part: string, pattern: RegExp): boolean {
  return part.length >= 1 && part.length <= 80 && pattern.test(part);
}

/** The tag a file of this type gets: its type in lower case (`Q4_K_M` → `q4_k_m`), as Ollama's library names them. */
export function ollamaTagOf(type: string): string {
  return type.toLowerCase();
}

/** `name:tag`, what `ollama run` takes. */
export function ollamaModelRef(name: string, tag: string): string {
  return `${name}:${tag}`;
}

/** Whether pushing `name` goes to registry.ollama.ai, where a model lives under its owner's namespace. */
export function pushesToOllamaCom(name: string): boolean {
  const parts = name.split("/");
  return parts.length < 3 || parts[0] === "registry.ollama.ai" || parts[0] === "ollama.com";
}
