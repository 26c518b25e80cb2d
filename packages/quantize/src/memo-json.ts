import { readFile, rename, writeFile } from "node:fs/promises";

/** A measurement kept as JSON beside the outputs: read when present (and not forced), else computed and written atomically. */
export async function memoJson<T>(file: string, force: boolean | undefined, compute: () => Promise<T>): Promise<T> {
  if (!force) {
    const known = await readFile(file, "utf8").then((t) => JSON.parse(t) as T, () => undefined);
    if (known) return known;
  }
  const value = await compute();
  await writeFile(`${file}.tmp`, JSON.stringify(value));
  await rename(`${file}.tmp`, file);
  return value;
}
