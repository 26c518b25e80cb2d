import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { PublishError } from "../errors.js";
import type { OllamaSettings } from "../publish-types.js";

export interface OllamaRepoFilesParams {
  ollama?: OllamaSettings;
  /** Where the recipe is: `template` is a path relative to it. */
  recipeDir: string;
}

export interface RepoTextFile {
  path: string;
  content: string;
}

/**
 * The repo-root files Ollama reads on `ollama run hf.co/{repo}:{tag}`: `system` (the SYSTEM message), `params`
 * (PARAMETER values as JSON) and `template` (a Go template; without it the Hub converts the GGUF's chat template).
 */
export async function ollamaRepoFiles(params: OllamaRepoFilesParams): Promise<RepoTextFile[]> {
  const { ollama } = params;
  if (!ollama) return [];
  const files: RepoTextFile[] = [];
  if (ollama.system) files.push({ path: "system", content: ollama.system });
  if (ollama.parameters && Object.keys(ollama.parameters).length > 0) files.push({ path: "params", content: `${JSON.stringify(ollama.parameters, null, 2)}\n` });
  if (ollama.template) {
    const file = resolve(params.recipeDir, ollama.template);
    const content = await readFile(file, "utf8").catch((error: unknown) => {
      throw new PublishError({ message: `cannot read the Ollama template (publish.ollama.template): ${(error as Error).message}`, exitCode: 2, file, hint: "fix the path (it is relative to the recipe) or remove the key" });
    });
    files.push({ path: "template", content });
  }
  return files;
}
