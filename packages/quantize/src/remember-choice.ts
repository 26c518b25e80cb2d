import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stateDirName, tempPathFor, type QuantChoiceRecord } from "@gguf-pipeline/core";

function memoFile(outDir: string, key: string): string {
  return join(outDir, stateDirName, "choices", `${key}.json`);
}

/**
 * Keeps a budget choice under its key (what it was made from and asked), so a re-run, or the run that gathers a
 * fanned-out choice from another machine, takes the same types without making the candidates again.
 */
export async function rememberChoice(params: { outDir: string; key: string; choices: QuantChoiceRecord[] }): Promise<void> {
  const file = memoFile(params.outDir, params.key);
  await mkdir(join(params.outDir, stateDirName, "choices"), { recursive: true });
  const partial = tempPathFor(file);
  await writeFile(partial, `${JSON.stringify({ key: params.key, choices: params.choices }, null, 2)}\n`);
  await rename(partial, file);
}

/** The choice remembered under this key, if any. */
export async function recallChoice(params: { outDir: string; key: string }): Promise<QuantChoiceRecord[] | undefined> {
  try {
    const memo = JSON.parse(await readFile(memoFile(params.outDir, params.key), "utf8")) as { key?: string; choices?: QuantChoiceRecord[] };
    return memo.key === params.key && Array.isArray(memo.choices) ? memo.choices : undefined;
  } catch {
    return undefined;
  }
}
