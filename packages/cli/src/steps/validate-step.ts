import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { cacheRoot, type Artifact } from "@gguf-pipeline/core";
import { planValidation, validateArtifacts, validationMemo, type ValidateArtifactsParams } from "@gguf-pipeline/validate";
import { need, signalOf, type RunStep } from "./run-context.js";
import type { PreparedRecipe } from "../prepare-recipe.js";

const stage = "validate";

/** Every GGUF of the run checked (structure, tensors, template, license) and the chosen models smoke-tested. */
export const validateStep: RunStep = {
  stage,
  part: "gather",
  title: () => "Validate every GGUF",
  applies: () => true,
  run: async function* (ctx) {
    const { toolchain, intermediate, convert } = need(ctx);
    const out = yield* validateArtifacts({
      ...(await validationSettings(ctx.prepared, ctx.artifacts, intermediate, convert)),
      source: { dir: ctx.prepared.source.dir, files: ctx.prepared.source.files, memoDir: join(cacheRoot({ env: ctx.options.env }), "tokenizer-parity") },
      allow: ctx.options.allow,
      toolchain,
      force: ctx.options.force,
      ...signalOf(ctx),
    });
    ctx.validation = out.validation;
    ctx.validationFailed = out.failed;
    return { cached: out.cached };
  },
  plan: async (ctx) => {
    const { convert, intermediate } = ctx;
    const smoke = ctx.prepared.loaded.recipe.validate?.smoke ?? "smallest";
    const what = `structural checks on every GGUF; smoke test on ${smoke === "all" ? "every model" : smoke === "none" ? "no model" : "the reference and the smallest quant"}`;
    // Results are remembered per file: known only when every file is (no earlier step will run).
    if (!ctx.known || !convert || !intermediate || ctx.force) return [{ stage, what, cached: false, bytes: 0 }];
    const planned = await planValidation({ ...(await validationSettings(ctx.prepared, ctx.artifacts, intermediate, convert)), toolchain: { llamaCppDir: ctx.toolchain.llamaCpp.sourceDir, commit: ctx.toolchain.llamaCpp.commit } });
    const memo = validationMemo({ outDir: ctx.prepared.loaded.outDir });
    const remembered = await Promise.all(planned.files.map((f) => memo.has(f.key)));
    return [{ stage, what: `${what} (${planned.files.length} file(s))`, cached: remembered.every(Boolean), bytes: 0 }];
  },
};

/** What validation checks the run's artifacts against, from the recipe: the same for the run and for `plan`. */
async function validationSettings(prepared: PreparedRecipe, artifacts: Artifact[], reference: Artifact, convert: Artifact): Promise<Omit<ValidateArtifactsParams, "toolchain">> {
  const v = prepared.loaded.recipe.validate;
  const projector = artifacts.find((a) => a.stage === "mmproj");
  return {
    outDir: prepared.loaded.outDir,
    artifacts,
    reference,
    // The base a merged model was made from is not a result: it is checked, not run.
    ...(prepared.merge ? { notSmoked: [convert.path] } : {}),
    ...(projector ? { projector } : {}),
    expect: { chatTemplate: await sourceHasChatTemplate(prepared), license: { id: prepared.license.license, ...(prepared.license.link ? { link: prepared.license.link } : {}) } },
    smoke: { which: v?.smoke ?? "smallest", prompt: v?.prompt ?? "Hello! Who are you?", tokens: v?.tokens ?? 16 },
  };
}

async function sourceHasChatTemplate(prepared: PreparedRecipe): Promise<boolean> {
  const { files, dir } = prepared.source;
  if (files.includes("chat_template.jinja") || files.includes("chat_template.json")) return true;
  const config = await readFile(join(dir, "tokenizer_config.json"), "utf8").then((t) => JSON.parse(t) as { chat_template?: unknown }, () => undefined);
  return Boolean(config?.chat_template);
}
