import { stat } from "node:fs/promises";
import { InputError } from "@gguf-pipeline/core";

/**
 * A FILE argument that is not there is a wrong argument (exit 2, one line), not a failed check; a missing shard of a
 * set is a failed check of the set, found by the checks themselves.
 */
export async function requireFile(params: { file: string; hint: string }): Promise<void> {
  const found = await stat(params.file).catch((error: NodeJS.ErrnoException) => error);
  if (found instanceof Error) throw new InputError({ file: params.file, message: found.code === "ENOENT" ? "no such file" : `cannot be read (${found.code ?? found.message})`, hint: params.hint });
}
