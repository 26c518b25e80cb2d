import { join } from "node:path";
import type { RunReport } from "@gguf-pipeline/core";
import { baseModelName } from "@gguf-pipeline/merge";
import type { HubSettings, PublishInput } from "@gguf-pipeline/publish";
import { readModelCard } from "@gguf-pipeline/validate";
import { buildReport } from "../build-report.js";
import type { PreparedRecipe } from "../prepare-recipe.js";
import { signalOf, type RunContext, type RunStep } from "./run-context.js";

const stage = "publish-hf";

/** One atomic commit of the validated results to a Hub model repo (and unmerged adapters to their own repo). */
export const publishHubStep: RunStep = {
  stage,
  part: "gather",
  title: ({ prepared }) => `Publish to the Hub: ${prepared.loaded.recipe.publish?.hf?.repo ?? ""}`,
  applies: (prepared, options) => options.publish && Boolean(prepared.loaded.recipe.publish?.hf),
  run: async function* (ctx) {
    const settings = hubSettings(ctx.prepared);
    const access = ctx.access.hf;
    if (!settings || !access) throw new Error("the Hub publish step runs only after its access was checked");
    const held = heldBack(ctx);
    if (held) {
      yield { type: "done", stage, title: `Not published: ${held}`, seconds: 0, cached: false };
      return { cached: false };
    }
    // The Hub client is loaded only by runs that publish.
    const { publishToHub } = await import("@gguf-pipeline/publish");
    const out = yield* publishToHub({
      ...(await publishInput(ctx)),
      settings,
      hubUrl: access.hubUrl,
      accessToken: access.accessToken,
      quantizedBy: access.user,
      ...(ctx.toolchain ? { toolchain: ctx.toolchain } : {}),
      ...(ctx.options.dryRun ? { dryRun: true } : {}),
      ...signalOf(ctx),
    });
    ctx.published = { ...ctx.published, hf: out };
    return { cached: out.every((p) => !p.commit) };
  },
  plan: async ({ prepared }) => [{ stage, what: `one commit to ${prepared.loaded.recipe.publish?.hf?.repo ?? ""} (unchanged files are not uploaded; nothing changed: no commit)`, cached: false, bytes: 0 }],
};

/** The recipe's publish.hf with its defaults. */
export function hubSettings(prepared: PreparedRecipe): HubSettings | undefined {
  const hf = prepared.loaded.recipe.publish?.hf;
  // The schema's defaults are not applied when the recipe is read (its type says otherwise).
  return hf ? { ...hf, private: hf.private ?? false, branch: hf.branch ?? "main", createPr: hf.createPr ?? false } : undefined;
}

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
