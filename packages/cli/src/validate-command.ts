import { planConvert } from "@gguf-pipeline/convert";
import { prepareRecipe, type PreparedRecipe } from "./prepare-recipe.js";

export interface ValidateCommandParams {
  file: string;
  outDir?: string;
  env?: NodeJS.ProcessEnv;
}

export interface ValidateCommandOutput {
  prepared: PreparedRecipe;
  lines: string[];
}

/** `pipeline validate RECIPE`: schema and source checks; nothing is built or written. Throws on the first problem. */
export async function validateCommand(params: ValidateCommandParams): Promise<ValidateCommandOutput> {
  const prepared = await prepareRecipe(params);
  const { loaded, source } = prepared;
  const plan = planConvert({ source, outtype: loaded.outtype });
  const lines = [
    `ok: ${params.file}`,
    `  source   ${source.dir} — ${source.architecture}, ${source.weightFiles.length} safetensors file(s), ${source.tensorCount} tensors, ${source.parameterCount.toLocaleString("en-US")} parameters`,
    `  convert  outtype ${loaded.outtype} → ${loaded.name}-${loaded.outtype === "auto" ? plan.type : loaded.outtype.toUpperCase()}.gguf`,
    `  output   ${loaded.outDir}`,
    `  license  ${prepared.license.license} (from ${prepared.license.from})${prepared.license.link ? `, link ${prepared.license.link}` : ""}${prepared.license.ship.length + prepared.license.write.length ? `; ships ${[...prepared.license.ship, ...prepared.license.write].map((f) => f.to).join(", ")}` : ""}`,
    ...prepared.license.warnings.map((w) => `  warning  ${w}`),
  ];
  return { prepared, lines };
}
