import { readFile } from "node:fs/promises";

/** This package's version (report.json's tools.pipeline, `pipeline --version`). */
export async function pipelineVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}
