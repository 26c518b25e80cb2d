import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { tempPathFor } from "@gguf-pipeline/core";

export interface WriteOllamaFolderParams {
  /** The folder to (re)write, absolute. */
  folder: string;
  modelfile: string;
  /** Files the Modelfile names: their name in the folder and where they are now. */
  files: { name: string; from: string }[];
}

export interface WriteOllamaFolderOutput {
  /** How many files had to be copied (another file system) rather than linked. */
  copied: number;
  /** The folder already held exactly this: left as it was. */
  unchanged: boolean;
}

/**
 * A self-contained folder for `ollama create NAME -f Modelfile`: the Modelfile and the files it names as hard links
 * (the same bytes, no space used; a copy only across file systems). Built under a hidden partial name and renamed
 * into place, so the folder is either the old one or the new one, never half written.
 */
export async function writeOllamaFolder(params: WriteOllamaFolderParams): Promise<WriteOllamaFolderOutput> {
  if (await holdsAlready(params)) return { copied: 0, unchanged: true };
  const partial = tempPathFor(params.folder);
  const old = `${partial}.old`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  let copied = 0;
  try {
    for (const file of params.files) {
      if (basename(file.name) !== file.name || file.name === "Modelfile") throw new Error(`${file.name}: not a plain file name for the Modelfile's folder`);
      if (await placeFile(file.from, join(partial, file.name))) copied++;
    }
    await writeFile(join(partial, "Modelfile"), params.modelfile);
    await mkdir(dirname(params.folder), { recursive: true });
    // rename() cannot replace a non-empty folder: the old one steps aside first, and goes once the new one is in place.
    await rm(old, { recursive: true, force: true });
    const hadOld = await rename(params.folder, old).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return false;
        throw error;
      },
    );
    await rename(partial, params.folder);
    if (hadOld) await rm(old, { recursive: true, force: true });
    return { copied, unchanged: false };
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/** The same Modelfile, the same set of files, each a link to its source (or a copy of its size, no older than it). */
async function holdsAlready(params: WriteOllamaFolderParams): Promise<boolean> {
  const modelfile = await readFile(join(params.folder, "Modelfile"), "utf8").catch(() => undefined);
  if (modelfile !== params.modelfile) return false;
  const names = (await readdir(params.folder)).filter((n) => n !== "Modelfile").sort();
  if (names.join("\0") !== params.files.map((f) => f.name).sort().join("\0")) return false;
  for (const file of params.files) {
    const [here, source] = await Promise.all([stat(join(params.folder, file.name)).catch(() => undefined), stat(file.from).catch(() => undefined)]);
    if (!here || !source) return false;
    const linked = here.ino === source.ino && here.dev === source.dev;
    if (!linked && (here.size !== source.size || here.mtimeMs < source.mtimeMs)) return false;
  }
  return true;
}

/** A hard link where the file system allows one, else a copy; true when it copied. */
async function placeFile(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return false;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "ENOTSUP" && code !== "EMLINK") throw error;
    await copyFile(from, to);
    return true;
  }
}
