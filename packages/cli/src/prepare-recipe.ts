import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { InputError, loadRecipe, resolveFrom, type LoadedRecipe, type RecipeProblem } from "@gguf-pipeline/core";
import { findLicense, judgeLicense, type LicenseVerdict } from "@gguf-pipeline/validate";
import { inspectSource, pinnedConverterArchitectures, type RecipeMetadata, type SourceModel } from "@gguf-pipeline/convert";
import { toolchainOverride, type ToolchainOverride } from "@gguf-pipeline/native";
import { checkQuantRecipe, MixTooSmallError, quantJobs } from "@gguf-pipeline/quantize";
import { AdapterError, inspectAdapter, type AdapterInfo } from "@gguf-pipeline/merge";
import { mixContext } from "./steps/mix-context.js";

export interface PrepareRecipeParams {
  file: string;
  outDir?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * The architectures a user-supplied llama.cpp converts (asked of its converter). Without it, or without a user
   * llama.cpp, the pinned converter's table is used, which needs nothing built.
   */
  userArchitectures?: (override: ToolchainOverride) => Promise<readonly string[]>;
}

export interface PreparedAdapter {
  info: AdapterInfo;
  name: string;
  scale: number;
}

export interface PreparedRecipe {
  loaded: LoadedRecipe;
  source: SourceModel;
  override: ToolchainOverride;
  adapters: PreparedAdapter[];
  /** Merge the adapters into the model (the quants are then made from the merged model). */
  merge: boolean;
  /** The license the outputs carry, and the files that travel with them. */
  license: LicenseVerdict;
  /** What convert stamps into general.*: the recipe's metadata with the license policy's verdict. */
  metadata: RecipeMetadata;
}

/**
 * Everything `validate` checks, and `run`/`plan` check first: the recipe against the schema, then the source
 * folder (config, architecture, safetensors headers). Nothing is built or written.
 */
export async function prepareRecipe(params: PrepareRecipeParams): Promise<PreparedRecipe> {
  const loaded = await loadRecipe({ file: params.file, ...(params.outDir ? { outDir: params.outDir } : {}), checks: [checkQuantRecipe, checkPublishRecipe] });
  const recipeToolchain = loaded.recipe.toolchain;
  const override = toolchainOverride({
    ...(params.env ? { env: params.env } : {}),
    ...(recipeToolchain ? { recipe: resolveToolchainPaths(loaded, recipeToolchain) } : {}),
  });
  await checkOutDir(loaded.outDir, params.outDir ? "--out" : `output.dir in ${params.file}`);
  const sourceDir = resolve(loaded.sourceDir);
  if (resolve(loaded.outDir) === sourceDir || resolve(loaded.outDir).startsWith(`${sourceDir}/`)) {
    // Its outputs would become inputs of the source's cache key: every run would convert again.
    throw new InputError({ file: loaded.outDir, message: "the output folder is inside the source model folder", hint: `point ${params.outDir ? "--out" : `output.dir in ${params.file}`} somewhere else` });
  }
  const source = await inspectSource({
    dir: loaded.sourceDir,
    architectures: override.llamaCpp && params.userArchitectures ? await params.userArchitectures(override) : pinnedConverterArchitectures,
    recipeFile: params.file,
  });
  // A mix's name follows from its size and the model's weights: two that would share one are refused before any work,
  // and so is a size below every weight at Q2_K (84 bytes a block of 256).
  const mixJobs = quantJobs(loaded.recipe, [], mixContext({ source, loaded })).filter((j) => j.mix);
  for (const job of mixJobs) {
    const floor = Math.ceil((source.parameterCount * 84) / 256);
    if ((job.mix?.target.bytes ?? 0) < floor) throw new MixTooSmallError({ file: params.file, targetBytes: job.mix?.target.bytes ?? 0, smallestBytes: floor, atLeast: true, ...(job.mix?.target.fit ? { fit: job.mix.target.fit } : {}) });
  }
  const mixes = mixJobs.map((j) => j.type);
  const twice = mixes.find((label, i) => mixes.indexOf(label) !== i);
  if (twice) throw new InputError({ file: params.file, message: `two mixes would both be ${loaded.name}-${twice}.gguf`, hint: "the Hub tells files apart by their quant label: ask for sizes nearer different presets (Q3_K_M, Q4_K_M, Q5_K_M …), or keep one" });
  // Every adapter is checked against the source before anything runs.
  const adapters: PreparedAdapter[] = [];
  for (const entry of loaded.recipe.adapters ?? []) {
    const info = await inspectAdapter({ dir: resolveFrom(loaded.dir, entry.path), source });
    const name = entry.name ?? info.defaultName;
    if (adapters.some((a) => a.name === name)) {
      throw new AdapterError({ file: info.dir, message: `two adapters are named "${name}"`, hint: `give one of them a "name" in ${params.file}` });
    }
    adapters.push({ info, name, scale: entry.scale ?? 1 });
  }
  const license = await prepareLicense(loaded, source, adapters, params.file);
  const { license: id, name: licenseName, link: licenseLink } = license;
  const metadata: RecipeMetadata = { ...loaded.recipe.metadata, license: id, ...(licenseName ? { licenseName } : {}), ...(licenseLink ? { licenseLink } : {}) };
  return { loaded, source, override, adapters, merge: adapters.length > 0 && loaded.recipe.merge !== false, license, metadata };
}

/** publish.ollama's rules beyond the schema (parameter names and types, tags, template file), with their lines. */
async function checkPublishRecipe(loaded: LoadedRecipe): Promise<RecipeProblem[]> {
  if (!loaded.recipe.publish?.ollama) return [];
  // Loaded only for recipes that publish to Ollama: it is not part of every run's start-up.
  const { checkOllamaRecipe } = await import("@gguf-pipeline/publish");
  return checkOllamaRecipe(loaded);
}

/** The license policy, judged before anything runs: the recipe's declaration, the source's card and files, each adapter's. */
async function prepareLicense(loaded: LoadedRecipe, source: SourceModel, adapters: PreparedAdapter[], recipeFile: string): Promise<LicenseVerdict> {
  const { metadata, licensePolicy } = loaded.recipe;
  const extraFiles: string[] = [];
  for (const file of licensePolicy?.files ?? []) {
    const path = resolveFrom(loaded.dir, file);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new InputError({ file: path, message: "license file not found", hint: `fix licensePolicy.files in ${recipeFile}` });
    extraFiles.push(path);
  }
  return judgeLicense({
    recipeFile,
    declared: { ...(metadata?.license ? { license: metadata.license } : {}), ...(metadata?.licenseName ? { name: metadata.licenseName } : {}), ...(metadata?.licenseLink ? { link: metadata.licenseLink } : {}) },
    source: await findLicense({ dir: source.dir }),
    adapters: await Promise.all(adapters.map(async (a) => ({ name: a.name, found: await findLicense({ dir: a.info.dir }) }))),
    datasets: (metadata?.datasets ?? []).map((d) => ({ name: d.name, ...(d.license ? { license: d.license } : {}) })),
    acceptNonCommercial: licensePolicy?.acceptNonCommercial ?? false,
    extraFiles,
    relativeTo: loaded.dir,
  });
}

function resolveToolchainPaths(loaded: LoadedRecipe, toolchain: ToolchainOverride): ToolchainOverride {
  const out: ToolchainOverride = {};
  for (const key of ["llamaCpp", "binDir", "python"] as const) {
    const value = toolchain[key];
    if (value) out[key] = resolveFrom(loaded.dir, value);
  }
  return out;
}

/** The output folder must be a folder we can write, or not exist yet under a parent we can write. */
async function checkOutDir(outDir: string, setting: string): Promise<void> {
  let dir = outDir;
  for (;;) {
    const info = await stat(dir).catch(() => undefined);
    if (info) {
      if (!info.isDirectory()) throw new InputError({ file: dir, message: "output folder is a file", hint: `point ${setting} at a folder` });
      const writable = await access(dir, constants.W_OK).then(() => true, () => false);
      if (!writable) throw new InputError({ file: dir, message: "output folder is not writable", hint: `fix its permissions or point ${setting} elsewhere` });
      return;
    }
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}
