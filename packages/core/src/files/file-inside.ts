import { lstat, realpath } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, sep } from "node:path";
import { InputError } from "../errors.js";

/**
 * Why a path a report or a part names is not a plain path inside its folder (absolute, `..`, hidden, empty or with a
 * NUL); undefined when it is one. A report.json travels between machines (parts of a fanned-out run are downloaded
 * artifacts): it is input, and a path in it must never reach outside the folder it describes.
 */
export function relativePathProblem(path: string): string | undefined {
  if (path === "" || path.includes("\0")) return "is not a file name";
  if (isAbsolute(path) || /^[A-Za-z]:|^\\/.test(path)) return "is an absolute path";
  const parts = path.split(/[\\/]/);
  if (parts.includes("..")) return "reaches out of its folder (..)";
  if (parts.some((p) => p === "" || p === ".")) return "is not a plain relative path";
  if (parts[0]?.startsWith(".")) return "is a hidden path";
  return undefined;
}

export interface FileInsideParams {
  dir: string;
  /** Relative to `dir`. */
  path: string;
  /** Links whose target lies here are fine too (a Hub cache snapshot's links into its own blobs/). */
  alsoWithin?: string;
  /** What to tell the user (the file's name and the problem come first). */
  hint: string;
}

/**
 * A file that truly lies inside a folder: a plain relative path, and once every symlink is resolved, still inside the
 * folder (or `alsoWithin`). Its absolute path, or one InputError line naming where it leads. Nothing is read first.
 */
export async function fileInside(params: FileInsideParams): Promise<string> {
  const file = join(params.dir, params.path);
  const problem = relativePathProblem(params.path);
  if (problem) throw new InputError({ file, message: `${params.path} ${problem}`, hint: params.hint });
  const info = await lstat(file).catch(() => undefined);
  if (!info) throw new InputError({ file, message: "missing", hint: params.hint });
  const [real, root] = await Promise.all([realpath(file).catch(() => file), realpath(params.dir).catch(() => params.dir)]);
  const roots = [root, ...(params.alsoWithin ? [await realpath(params.alsoWithin).catch(() => params.alsoWithin ?? "")] : [])];
  if (!roots.some((r) => real.startsWith(r.endsWith(sep) ? r : `${r}${sep}`))) {
    throw new InputError({ file, message: `${info.isSymbolicLink() ? "is a link" : "leads"} to ${real}, outside ${params.dir}`, hint: params.hint });
  }
  return file;
}

/** The blobs/ folder of the Hub cache repo a snapshot folder belongs to (`…/models--o--n/snapshots/<rev>`), if it is one. */
export function hubCacheBlobs(dir: string): string | undefined {
  return basename(dirname(dir)) === "snapshots" ? join(dirname(dirname(dir)), "blobs") : undefined;
}
