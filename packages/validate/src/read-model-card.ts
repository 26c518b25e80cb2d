import { readFile } from "node:fs/promises";
import { parse } from "yaml";

export interface ReadModelCardParams {
  /** A model card (README.md): YAML front matter between `---` lines, then Markdown. */
  file: string;
}

export interface ReadModelCardOutput {
  file: string;
  /** Whether the file exists. */
  found: boolean;
  /** The front matter; empty when there is none. */
  frontMatter: Record<string, unknown>;
  /** Why the front matter could not be read, when it could not. */
  error?: string;
}

/** Reads a model card's YAML front matter (the Hub's metadata: license, license_name, license_link, base_model, ...). */
export async function readModelCard(params: ReadModelCardParams): Promise<ReadModelCardOutput> {
  const text = await readFile(params.file, "utf8").catch(() => undefined);
  if (text === undefined) return { file: params.file, found: false, frontMatter: {} };
  const match = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(\r?\n|$)/.exec(text);
  if (!match) return { file: params.file, found: true, frontMatter: {} };
  try {
    const data: unknown = parse(match[1] ?? "");
    const frontMatter = data && typeof data === "object" && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
    return { file: params.file, found: true, frontMatter };
  } catch (error) {
    return { file: params.file, found: true, frontMatter: {}, error: `its YAML front matter does not parse: ${(error as Error).message.split("\n")[0] ?? ""}` };
  }
}
