import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunReport } from "@gguf-pipeline/core";
import { PublishError } from "../errors.js";
import { ollamaRepoFiles } from "./repo-files.js";

const ollama = { name: "tiny", push: false, insecure: false };
// A run without validation: the recipe's settings are all there is (the Hub converts the template itself).
const unvalidated = { outDir: "/out", report: { artifacts: [] } as unknown as RunReport, artifacts: [] };

describe("ollamaRepoFiles", () => {
  it("should write system, params (JSON) and the template file read from the recipe's folder, for a run not validated", async () => {
    const recipeDir = await mkdtemp(join(tmpdir(), "ollama-files-"));
    await writeFile(join(recipeDir, "chat.tmpl"), "{{ .Prompt }}");
    const { files } = await ollamaRepoFiles({ ...unvalidated, recipeDir, ollama: { ...ollama, system: "Be brief.", parameters: { temperature: 0.2, stop: ["</s>"] }, template: "chat.tmpl" } });
    expect(files).toEqual([
      { path: "system", content: "Be brief." },
      { path: "params", content: '{\n  "temperature": 0.2,\n  "stop": [\n    "</s>"\n  ]\n}\n' },
      { path: "template", content: "{{ .Prompt }}" },
    ]);
  });

  it("should write nothing without those settings, and name a missing template file", async () => {
    expect(await ollamaRepoFiles({ ...unvalidated, recipeDir: "/r", ollama })).toEqual({ files: [], warnings: [] });
    expect(await ollamaRepoFiles({ ...unvalidated, recipeDir: "/r" })).toEqual({ files: [], warnings: [] });
    await expect(ollamaRepoFiles({ ...unvalidated, recipeDir: "/nowhere", ollama: { ...ollama, template: "t.tmpl" } })).rejects.toMatchObject({ constructor: PublishError, exitCode: 2, file: "/nowhere/t.tmpl" });
  });
});
