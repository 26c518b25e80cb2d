import { join } from "node:path";
import type { RunReport } from "@gguf-pipeline/core";
import { baseModelName } from "@gguf-pipeline/merge";
import type { PublishInput } from "@gguf-pipeline/publish";
import { readModelCard } from "@gguf-pipeline/validate";
import { buildReport } from "../build-report.js";
import type { RunContext } from "./run-context.js";

/** Why nothing may be published: a failed quant, or a failed check that was not accepted. */
export function heldBack(ctx: RunContext): string | undefined {
  if (ctx.ladderError) return `${ctx.ladderError.failures.length} quant(s) failed`;
  const failed = ctx.validationFailed.length;
  return failed > 0 ? `${failed} validation check(s) failed (accept one by name with --allow)` : undefined;
}

/** What the publish targets read: the run's report (a finished run's, or the one this run builds) and the source. */
export async function publishInput(ctx: RunContext): Promise<PublishInput> {
  const { prepared } = ctx;
  const report: RunReport = ctx.finished ?? (await buildReport({ ctx, startedAt: ctx.startedAt }));
  const card = await readModelCard({ file: join(prepared.source.dir, "README.md") });
  const base = baseModelName(prepared.source);
  const hubId = base.repoUrl?.replace(/^https:\/\/huggingface\.co\//, "");
  const ollama = prepared.loaded.recipe.publish?.ollama;
  return {
    outDir: prepared.loaded.outDir,
    report,
    recipeDir: prepared.loaded.dir,
    source: { dir: prepared.source.dir, name: base.name, ...(hubId ? { hubId } : {}), ...(card.found ? { card: card.frontMatter } : {}) },
    ...(ollama ? { ollama } : {}),
  };
}
