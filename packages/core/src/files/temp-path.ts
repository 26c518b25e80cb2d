import { basename, dirname, join } from "node:path";

/**
 * The name a file is written under until it is complete: hidden, in the same folder (so the final rename is atomic),
 * and tagged with our pid so a leftover from a killed run is recognisable.
 */
export function tempPathFor(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.partial-${process.pid}`);
}

/** A partial file's name (also the pieces a tool makes next to it: `.X.partial-123-00001-of-00002.gguf`, `.X.partial-123.export-0`). */
export const partialPattern = /^\..+\.partial-(\d+)(?:[.-].*)?$/;
