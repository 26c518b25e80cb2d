import { shipLicenseFiles } from "@gguf-pipeline/validate";
import { signalOf, type RunStep } from "./run-context.js";

const stage = "license";

/** The license and notice files the license policy names, shipped into the output folder beside the models. */
export const licenseStep: RunStep = {
  stage,
  part: "gather",
  title: ({ prepared }) => `License: ${prepared.license.license}`,
  applies: () => true,
  run: async function* (ctx) {
    const { license, loaded } = ctx.prepared;
    const started = Date.now();
    for (const message of license.warnings) yield { type: "log", stage, level: "warn", message };
    const out = yield* shipLicenseFiles({ verdict: license, outDir: loaded.outDir, force: ctx.options.force, ...signalOf(ctx) });
    ctx.artifacts.push(...out.artifacts);
    const files = out.artifacts.map((a) => a.path);
    yield { type: "done", stage, title: `License: ${license.license} (from ${license.from})${files.length ? `; ships ${files.join(", ")}` : ""}`, seconds: (Date.now() - started) / 1000, cached: out.cached };
    return { cached: out.cached };
  },
  plan: async ({ prepared }) => {
    const { license } = prepared;
    const files = [...license.ship, ...license.write].map((f) => f.to);
    return [{ stage, what: `${license.license} (from ${license.from})${files.length ? `; ships ${files.join(", ")}` : ""}`, cached: files.length === 0, bytes: 0 }];
  },
};
