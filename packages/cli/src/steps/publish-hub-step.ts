import type { HubSettings } from "@gguf-pipeline/publish";
import type { PreparedRecipe } from "../prepare-recipe.js";
import { heldBack, publishInput } from "./publish-input.js";
import { signalOf, type RunStep } from "./run-context.js";

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
      ...(access.user ? { quantizedBy: access.user } : {}),
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
