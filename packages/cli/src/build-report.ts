import { readdir } from "node:fs/promises";
import { stableKey, type RunReport } from "@gguf-pipeline/core";
import { describeToolchain } from "@gguf-pipeline/native";
import { pipelineVersion } from "./pipeline-version.js";
import type { RunContext } from "./steps/run-context.js";

/** What a recipe makes, whatever it publishes to: the key of the recipe without `publish` and `$schema`. */
export function recipeRunKey(recipe: object): string {
  const { publish: _publish, $schema: _schema, ...made } = recipe as Record<string, unknown>;
  return stableKey(made);
}

/** report.json's content from what a run's steps made so far (the publish steps need it before the run ends). */
export async function buildReport(params: { ctx: RunContext; startedAt: Date }): Promise<RunReport> {
  const { ctx } = params;
  const { prepared } = ctx;
  const toolchain = ctx.toolchain;
  if (!toolchain) throw new Error("toolchain missing after run");
  const described = await describeToolchain({ env: ctx.options.env, override: prepared.override });
  const report: RunReport = {
    schemaVersion: 1,
    recipe: { path: prepared.loaded.file, sha256: prepared.loaded.sha256, runKey: recipeRunKey(prepared.loaded.recipe) },
    startedAt: params.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    tools: {
      llamaCppCommit: toolchain.commit,
      llamaCppSource: toolchain.source === "managed" ? `${described.llamaCpp.npmPackage} (${toolchain.llamaCppDir})` : toolchain.llamaCppDir,
      ...(toolchain.proof
        ? { llamaCppBuild: { ...(toolchain.proof.buildKey ? { key: toolchain.proof.buildKey } : {}), uses: toolchain.proof.features, without: toolchain.proof.turnedOff.map((t) => t.feature) } }
        : {}),
      python: described.python.version ?? "unknown",
      packages: described.python.packages ?? {},
      pipeline: await pipelineVersion(),
    },
    stages: ctx.timings,
    // A rung that is the intermediate itself is listed once.
    artifacts: [...new Map(ctx.artifacts.map((a) => [a.path, a])).values()],
    license: {
      id: prepared.license.license,
      ...(prepared.license.name ? { name: prepared.license.name } : {}),
      ...(prepared.license.link ? { link: prepared.license.link } : {}),
      // Relative to the recipe's folder, so a published report.json names no local folders.
      from: prepared.license.from,
      files: ctx.artifacts.filter((a) => a.stage === "license").map((a) => a.path),
      warnings: prepared.license.warnings,
    },
    ...(ctx.options.only ? { part: ctx.options.only } : {}),
    ...(ctx.validation ? { validation: ctx.validation } : {}),
    ...(ctx.chosen ? { quantChoice: ctx.chosen.choices } : {}),
    ...(ctx.published ? { published: ctx.published } : {}),
  };
  // An earlier recipe's outputs stay where they are, but they are named, so nobody takes them for this run's.
  // The publish's own folders (Ollama's Modelfiles, a Hub commit written locally) are its output, not another recipe's.
  const hubFolder = prepared.loaded.recipe.publish?.hf?.folder;
  const made = new Set([...report.artifacts.map((a) => a.path), "report.json", ...(prepared.loaded.recipe.publish?.ollama ? ["ollama"] : []), ...(hubFolder ? [hubFolder] : [])]);
  const otherFiles = (await readdir(prepared.loaded.outDir).catch(() => [])).filter((f) => !f.startsWith(".") && !made.has(f)).sort();
  if (otherFiles.length > 0) report.otherFiles = otherFiles;
  return report;
}
