import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Artifact, RunReport } from "@gguf-pipeline/core";
import { PublishError } from "../errors.js";
import type { OllamaSettings } from "../publish-types.js";
import { modelContent, readSharedContent } from "./model-content.js";

export interface OllamaRepoFilesParams {
  ollama?: OllamaSettings;
  /** Where the recipe is: `template` is a path relative to it. */
  recipeDir: string;
  /** The run: its output folder, report (validation.chat: the model's own prompts) and the repo's files. */
  outDir: string;
  report: RunReport;
  artifacts: Artifact[];
}

export interface RepoTextFile {
  path: string;
  content: string;
}

export interface OllamaRepoFilesOutput {
  files: RepoTextFile[];
  /** What `ollama run hf.co/…` renders otherwise than the model's own template (said once, by the Ollama publish when there is one). */
  warnings: string[];
}

/**
 * The repo-root files Ollama reads on `ollama run hf.co/{repo}:{tag}`: `template` (a Go template), `system` (the
 * SYSTEM message) and `params` (PARAMETER values as JSON). For a chat model the run validated, they are what the
 * Ollama publish's Modelfile gets — the template held to the model's own prompts, a default system turn, the stop
 * strings — so a pull from the Hub renders what the model was trained on, not the Hub's own conversion. Otherwise
 * (no validation, an embedding model) the recipe's `publish.ollama` settings alone, and the Hub converts.
 */
export async function ollamaRepoFiles(params: OllamaRepoFilesParams): Promise<OllamaRepoFilesOutput> {
  const chatModel = params.report.validation?.chat ? params.artifacts.find((a) => isChatModel(a, params.report)) : undefined;
  if (!chatModel) return { files: await recipeFiles(params), warnings: [] };
  const settings: OllamaSettings = params.ollama ?? { name: "hub", push: false, insecure: false };
  const shared = await readSharedContent({ settings, recipeDir: params.recipeDir, outDir: params.outDir, report: params.report });
  const content = await modelContent({ file: join(params.outDir, chatModel.path), label: `hf.co pulls (${chatModel.path})`, kind: "text-generation", shared });
  const files: RepoTextFile[] = [];
  if (content.template !== undefined) files.push({ path: "template", content: content.template });
  if (content.system !== undefined) files.push({ path: "system", content: content.system });
  if (Object.keys(content.parameters).length > 0) files.push({ path: "params", content: `${JSON.stringify(content.parameters, null, 2)}\n` });
  return { files, warnings: params.ollama ? [] : (content.warnings ?? []) };
}

function isChatModel(artifact: Artifact, report: RunReport): boolean {
  const validation = report.validation?.files[artifact.path];
  return artifact.path.endsWith(".gguf") && validation?.kind === "text-generation" && !artifact.stage.startsWith("adapter");
}

async function recipeFiles(params: OllamaRepoFilesParams): Promise<RepoTextFile[]> {
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
