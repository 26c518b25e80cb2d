import type { OllamaParameterValue } from "./parameters.js";

/** What one Ollama model is made of, as a Modelfile states it (paths relative to the Modelfile's folder). */
export interface ModelfileSpec {
  /** `./Tiny-Q4_K_M.gguf`. */
  from: string;
  /** A vision model's projector: a second FROM (Ollama stores it as its image projector layer). */
  projector?: string;
  adapter?: string;
  template?: string;
  system?: string;
  parameters: Record<string, OllamaParameterValue>;
  /** One LICENSE per text. */
  licenses: string[];
}

/** A value Ollama's Modelfile parser cannot read back as it was written. */
export class ModelfileValueError extends Error {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(message);
    this.name = "ModelfileValueError";
  }
}

/**
 * The Modelfile text for `ollama create NAME -f Modelfile`. Every value is written so that Ollama's parser
 * (parser/parser.go) reads back exactly that value: bare where it can, else in "…" or """…""" (the parser has no
 * escapes: a quote ends a value only before a line break). A value no quoting can carry throws ModelfileValueError.
 */
export function formatModelfile(spec: ModelfileSpec): string {
  const lines = ["# Made by gguf-pipeline. `ollama create NAME -f Modelfile` works from any folder: paths are relative to this file.", `FROM ${modelfileValue("FROM", spec.from, "bare")}`];
  if (spec.projector) lines.push(`FROM ${modelfileValue("FROM", spec.projector, "bare")}`);
  if (spec.adapter) lines.push(`ADAPTER ${modelfileValue("ADAPTER", spec.adapter, "bare")}`);
  if (spec.template !== undefined) lines.push(`TEMPLATE ${modelfileValue("TEMPLATE", spec.template, "block")}`);
  if (spec.system !== undefined) lines.push(`SYSTEM ${modelfileValue("SYSTEM", spec.system, "block")}`);
  for (const [name, value] of Object.entries(spec.parameters)) {
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`PARAMETER ${name} ${modelfileValue(`PARAMETER ${name}`, String(item), "bare")}`);
  }
  for (const license of spec.licenses) lines.push(`LICENSE ${modelfileValue("LICENSE", license, "block")}`);
  return `${lines.join("\n")}\n`;
}

/** Why a value cannot go into a Modelfile as it is (checked before any work: publish.ollama.system); undefined when it can. */
export function modelfileValueProblem(command: string, value: string): string | undefined {
  try {
    modelfileValue(command, value, "block");
    return undefined;
  } catch (error) {
    if (error instanceof ModelfileValueError) return error.message;
    throw error;
  }
}

type Style = "bare" | "block";

/** The first quoting (in the preferred order) under which the parser reads `value` back unchanged. */
export function modelfileValue(command: string, value: string, prefer: Style): string {
  const dropped = [...value].find((c) => !printable(c));
  if (dropped) {
    const code = dropped.codePointAt(0)?.toString(16).toUpperCase().padStart(4, "0") ?? "?";
    throw new ModelfileValueError(command, `${command} has the character U+${code}, which Ollama's Modelfile parser drops`);
  }
  const candidates = prefer === "bare" ? [value, `"${value}"`, `"""${value}"""`] : [`"""${value}"""`, `"${value}"`, value];
  const written = candidates.find((c) => readsBackAs(c, value));
  if (written === undefined) throw new ModelfileValueError(command, `${command} cannot be written in a Modelfile: it has a quote right before a line break in every quoting`);
  return written;
}

/**
 * Simulates the parser on `written`: the value ends at the first line break where the text so far, trimmed, is
 * complete (unquoted, or closed by its quotes), and that text unquoted must be `value`.
 */
function readsBackAs(written: string, value: string): boolean {
  if (written === "") return false;
  for (let i = 0; i < written.length; i++) {
    const c = written[i];
    if (c !== "\n" && c !== "\r") continue;
    if (unquote(goTrim(written.slice(0, i))) !== undefined) return false;
  }
  return unquote(goTrim(written)) === value;
}

/** Go's parser.unquote: """…""", "…", or the text itself; undefined while a quote is open. */
function unquote(s: string): string | undefined {
  if (s.startsWith('"""')) return s.length >= 6 && s.endsWith('"""') ? s.slice(3, -3) : undefined;
  if (s.startsWith('"')) return s.length >= 2 && s.endsWith('"') ? s.slice(1, -1) : undefined;
  return s;
}

/** strings.TrimSpace: Unicode white space at both ends. */
function goTrim(s: string): string {
  return s.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, "");
}

/** Go's strconv.IsPrint, plus the tab and line breaks the parser keeps: anything else is silently dropped by it. */
function printable(c: string): boolean {
  if (c === " " || c === "\t" || c === "\n" || c === "\r") return true;
  return !/[\p{C}\p{Z}]/u.test(c);
}
