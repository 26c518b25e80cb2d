import { readFile, rename, writeFile } from "node:fs/promises";

/** A measurement kept as JSON beside the outputs: read when present (and not forced), else computed and written atomically. */
export async function memoJson<T>(file: string, force: boolean | undefined, compute: () => Promise<T>): Promise<T> {
  if (!force) {
    const known = await readFile(file, "utf8").then((t) => JSON.parse(t) as T, () => undefined);
    if (known) return known;
  }
  const value = await compute();
  // Tagged with our pid, so a killed run's leftover is recognised and removed by the folder's next holder.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value));
  await rename(tmp, file);
  return value;
}
