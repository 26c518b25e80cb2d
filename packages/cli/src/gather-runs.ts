import { copyFile, link, mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileInside, hashFile, InputError, recordArtifact, tempPathFor, type StageEvent } from "@gguf-pipeline/core";
import { rememberChoice } from "@gguf-pipeline/quantize";
import { prepareRecipe } from "./prepare-recipe.js";
import { reportCommand } from "./report-command.js";

export interface GatherRunsParams {
  file: string;
  /** The parts' output folders (`run --only`), each with its report.json. */
  parts: string[];
  outDir?: string;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export interface GatherRunsOutput {
  /** Files brought into the output folder (a file already there with the same content is kept). */
  imported: string[];
}

/**
 * Brings the files of a run's parts (made by `run --only` on other machines) into one output folder, each checked
 * against the sha256 its part recorded and recorded under its part's cache key. A `pipeline run` of the recipe on that
 * folder then finds every part cached and does what is left: evaluate, license, validate, the report.
 */
export async function* gatherRuns(params: GatherRunsParams): AsyncGenerator<StageEvent, GatherRunsOutput> {
  const prepared = await prepareRecipe({ file: params.file, ...(params.outDir ? { outDir: params.outDir } : {}), ...(params.env ? { env: params.env } : {}) });
  const outDir = prepared.loaded.outDir;
  await mkdir(outDir, { recursive: true });
  const imported: string[] = [];
  yield { type: "start", stage: "gather", title: `Gather ${params.parts.length} part(s) into ${outDir}` };
  const started = Date.now();
  for (const dir of params.parts) {
    const report = await reportCommand({ outDir: dir });
    // A part that chose quants by budget: the gathering run takes its choice rather than measuring again.
    for (const key of new Set((report.quantChoice ?? []).flatMap((c) => (c.key ? [c.key] : [])))) {
      await rememberChoice({ outDir, key, choices: (report.quantChoice ?? []).filter((c) => c.key === key) });
    }
    for (const artifact of report.artifacts) {
      const to = join(outDir, artifact.path);
      // A part's report also lists what it was made from (the intermediate, the imatrix): a CI job need only carry
      // what it made, so a file already gathered (or in another part's folder) with the recorded content will do.
      if (await holds(to, artifact)) {
        await recordArtifact({ outDir, artifact });
        continue;
      }
      const from = await firstHolding([dir, ...params.parts], artifact.path, artifact);
      if (!from) throw new InputError({ file: join(dir, artifact.path), message: `missing, or its sha256 is not the one ${join(dir, "report.json")} records`, hint: "bring the part's folder over whole, as its run left it" });
      await mkdir(dirname(to), { recursive: true });
      const partial = tempPathFor(to);
      // A hard link when the parts lie on the same file system; a copy otherwise.
      await link(from, partial).catch(() => copyFile(from, partial));
      await rename(partial, to).catch(async (error: unknown) => {
        await rm(partial, { force: true });
        throw error;
      });
      imported.push(artifact.path);
      yield { type: "progress", stage: "gather", message: `${artifact.path} from ${from}` };
      await recordArtifact({ outDir, artifact });
    }
  }
  yield { type: "done", stage: "gather", title: `Gathered ${imported.length} file(s) from ${params.parts.length} part(s)`, seconds: (Date.now() - started) / 1000, cached: imported.length === 0 };
  return { imported };
}

async function holds(file: string, artifact: { bytes: number; sha256: string }): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  return Boolean(info && info.size === artifact.bytes && (await hashFile({ file })).sha256 === artifact.sha256);
}

/** The first part folder whose file (a real file inside that folder, never a link out of it) holds the content. */
async function firstHolding(dirs: string[], path: string, artifact: { bytes: number; sha256: string }): Promise<string | undefined> {
  for (const dir of dirs) {
    const file = await fileInside({ dir, path, hint: "a part's files must lie inside its folder: bring the part's folder over as its run left it" }).catch((error: unknown) => {
      if (error instanceof InputError && error.message === "missing") return undefined;
      throw error;
    });
    if (file && (await holds(file, artifact))) return file;
  }
  return undefined;
}
