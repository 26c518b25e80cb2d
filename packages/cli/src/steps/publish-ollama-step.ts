import type { OllamaSettings } from "@gguf-pipeline/publish";
import type { PreparedRecipe } from "../prepare-recipe.js";
import { heldBack, publishInput } from "./publish-input.js";
import { signalOf, type RunStep } from "./run-context.js";

const stage = "publish-ollama";

/** Ollama models: a Modelfile folder per tag, created (and pushed) on a server when one is configured. */
export const publishOllamaStep: RunStep = {
  stage,
  part: "gather",
  title: ({ prepared }) => `Publish to Ollama: ${prepared.loaded.recipe.publish?.ollama?.name ?? ""}`,
  applies: (prepared, options) => options.publish && Boolean(prepared.loaded.recipe.publish?.ollama),
  run: async function* (ctx) {
    const settings = ollamaSettings(ctx.prepared);
    if (!settings) throw new Error("the Ollama publish step runs only for a recipe with publish.ollama");
    const held = heldBack(ctx);
    if (held) {
      yield { type: "done", stage, title: `Not published: ${held}`, seconds: 0, cached: false };
      return { cached: false };
    }
    const publish = await import("@gguf-pipeline/publish");
    const params = {
      ...(await publishInput(ctx)),
      settings,
      ...(ctx.access.ollama?.host ? { host: ctx.access.ollama.host } : {}),
      ...(ctx.toolchain ? { toolchain: ctx.toolchain } : {}),
      ...signalOf(ctx),
    };
    if (ctx.options.dryRun) ctx.planLines.push(...publish.formatOllamaPlan(await publish.planOllama(params)));
    const out = yield* publish.publishToOllama({ ...params, ...(ctx.options.dryRun ? { dryRun: true } : {}) });
    ctx.published = { ...ctx.published, ollama: out };
    return { cached: out.tags.every((t) => !t.created && !t.pushed) };
  },
  plan: async ({ prepared }) => [{ stage, what: `Modelfile folders for ${prepared.loaded.recipe.publish?.ollama?.name ?? ""} (created on the server when a host is set; unchanged tags are not recreated)`, cached: false, bytes: 0 }],
};

function ollamaSettings(prepared: PreparedRecipe): OllamaSettings | undefined {
  const ollama = prepared.loaded.recipe.publish?.ollama;
  // The schema's defaults are not applied when the recipe is read (its type says otherwise).
  return ollama ? { ...ollama, push: ollama.push ?? false, insecure: ollama.insecure ?? false } : undefined;
}
