import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { sha256 } from "@gguf-pipeline/core";
import type { Artifact } from "@gguf-pipeline/core";
import { modelKindOf } from "./card-front-matter.js";
import { PublishError } from "../errors.js";
import { gitBlobOid } from "./git-blob-oid.js";
import { ollamaRepoFiles } from "../ollama/repo-files.js";
import type { LocalFile } from "./plan-commit.js";
import { publishedReport } from "./published-report.js";
import type { HubSettings, PublishInput } from "../publish-types.js";
import type { RepoTarget } from "./repo-targets.js";
import { writeModelCard } from "./write-model-card.js";

export interface RepoTextFilesParams {
  input: PublishInput;
  settings: HubSettings;
  target: RepoTarget;
  /** The files the repo holds, parts of split files included. */
  artifacts: Artifact[];
  hubUrl: string;
  quantizedBy?: string;
}

export interface RepoTextFilesOutput {
  files: LocalFile[];
  /** What the user must hear about them (a pull by Ollama that renders other prompts than the model's own). */
  warnings: string[];
}

/** What this publish writes besides the run's files: README.md (the card), report.json and Ollama's repo-root files. */
export async function repoTextFiles(params: RepoTextFilesParams): Promise<RepoTextFilesOutput> {
  const { input, settings, target } = params;
  const model = target.repoKind === "model";
  const template = model && settings.cardTemplate ? await readTemplate(resolve(input.recipeDir, settings.cardTemplate)) : undefined;
  const baseModel = settings.baseModel ?? input.source.hubId;
  const card = writeModelCard({
    repo: target.repo,
    repoKind: target.repoKind,
    report: input.report,
    artifacts: params.artifacts,
    modelKind: modelKindOf(input.report),
    hubUrl: params.hubUrl,
    ...(baseModel ? { baseModel } : {}),
    ...(input.source.card ? { sourceCard: input.source.card } : {}),
    ...(params.quantizedBy ? { quantizedBy: params.quantizedBy } : {}),
    ...(model ? {} : { modelRepo: settings.repo }),
    ...(template ? { template } : {}),
  });
  const ollama = model ? await ollamaRepoFiles({ recipeDir: input.recipeDir, outDir: input.outDir, report: input.report, artifacts: params.artifacts, ...(input.ollama ? { ollama: input.ollama } : {}) }) : { files: [], warnings: [] };
  const texts = [
    { path: "README.md", content: card.text },
    { path: "report.json", content: publishedReport({ report: input.report, artifacts: params.artifacts }) },
    ...ollama.files,
  ];
  const files = texts.map(({ path, content }): LocalFile => {
    const bytes = Buffer.from(content, "utf8");
    return { path, bytes: bytes.byteLength, sha256: sha256(bytes), gitOid: gitBlobOid(bytes), source: { kind: "memory", content: bytes } };
  });
  return { files, warnings: ollama.warnings };
}

async function readTemplate(file: string): Promise<{ file: string; text: string }> {
  const text = await readFile(file, "utf8").catch((error: unknown) => {
    throw new PublishError({ message: `cannot read the card template (publish.hf.cardTemplate): ${(error as Error).message}`, exitCode: 2, file, hint: "fix the path (it is relative to the recipe) or remove the key" });
  });
  return { file, text };
}
