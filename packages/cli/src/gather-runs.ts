import { copyFile, link, mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { hashFile, InputError, recordArtifact, tempPathFor, type StageEvent } from "@gguf-pipeline/core";
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
    for (const artifact of report.artifacts) {
      const from = join(dir, artifact.path);
      const to = join(outDir, artifact.path);
      const hashed = await hashFile({ file: from, ...(params.signal ? { signal: params.signal } : {}) });
      if (hashed.sha256 !== artifact.sha256) throw new InputError({ file: from, message: `its sha256 is not the one ${join(dir, "report.json")} records`, hint: "bring the part's folder over whole, as its run left it" });
      const there = await stat(to).catch(() => undefined);
      if (!there || there.size !== artifact.bytes || (await hashFile({ file: to })).sha256 !== artifact.sha256) {
        await mkdir(dirname(to), { recursive: true });
        const partial = tempPathFor(to);
        // A hard link when the parts lie on the same file system; a copy otherwise.
        await link(from, partial).catch(() => copyFile(from, partial));
        await rename(partial, to).catch(async (error: unknown) => {
          await rm(partial, { force: true });
          throw error;
        });
        imported.push(artifact.path);
        yield { type: "progress", stage: "gather", message: `${artifact.path} from ${dir}` };
      }
      await recordArtifact({ outDir, artifact });
    }
  }
  yield { type: "done", stage: "gather", title: `Gathered ${imported.length} file(s) from ${params.parts.length} part(s)`, seconds: (Date.now() - started) / 1000, cached: imported.length === 0 };
  return { imported };
}
