import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PublishError } from "../errors.js";
import { ollamaRepoFiles } from "./repo-files.js";

const ollama = { name: "tiny", push: false, insecure: false };

describe("ollamaRepoFiles", () => {
  it("should write system, params (JSON) and the template file read from the recipe's folder", async () => {
    const recipeDir = await mkdtemp(join(tmpdir(), "ollama-files-"));
    await writeFile(join(recipeDir, "chat.tmpl"), "{{ .Prompt }}");
    const files = await ollamaRepoFiles({ recipeDir, ollama: { ...ollama, system: "Be brief.", parameters: { temperature: 0.2, stop: ["</s>"] }, template: "chat.tmpl" } });
    expect(files).toEqual([
      { path: "system", content: "Be brief." },
      { path: "params", content: '{\n  "temperature": 0.2,\n  "stop": [\n    "</s>"\n  ]\n}\n' },
      { path: "template", content: "{{ .Prompt }}" },
    ]);
  });

  it("should write nothing without those settings, and name a missing template file", async () => {
    expect(await ollamaRepoFiles({ recipeDir: "/r", ollama })).toEqual([]);
    expect(await ollamaRepoFiles({ recipeDir: "/r" })).toEqual([]);
    await expect(ollamaRepoFiles({ recipeDir: "/nowhere", ollama: { ...ollama, template: "t.tmpl" } })).rejects.toMatchObject({ constructor: PublishError, exitCode: 2, file: "/nowhere/t.tmpl" });
  });
});
