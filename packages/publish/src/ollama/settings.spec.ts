import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LoadedRecipe } from "@gguf-pipeline/core";
import { PublishError } from "../errors.js";
import { checkOllamaRecipe, checkOllamaSettings, ollamaSettingsProblems } from "./settings.js";

const settings = { name: "tiny", push: false, insecure: false };

describe("ollamaSettingsProblems", () => {
  it("should pass good settings", () => {
    expect(ollamaSettingsProblems({ settings: { ...settings, tags: ["Q4_K_M", "f16"], latest: "q4_k_m", parameters: { num_ctx: 2048, stop: ["<|end|>"] } } })).toEqual([]);
  });

  it("should point at each bad value by its JSON path", () => {
    const problems = ollamaSettingsProblems({ settings: { ...settings, name: "tiny:v1", parameters: { bogus: 1, num_ctx: "abc" }, tags: ["Q4_K_M", "q4_k_m", "Q4 K"], latest: "Q8_0" } });
    expect(problems.map((p) => [p.path.join("."), p.message])).toEqual([
      ["publish.ollama.name", expect.stringMatching(/already has a tag/)],
      ["publish.ollama.parameters.bogus", '"bogus" is not an Ollama parameter'],
      ["publish.ollama.parameters.num_ctx", 'num_ctx must be an integer, not "abc"'],
      ["publish.ollama.tags.1", "Q4_K_M is listed twice"],
      ["publish.ollama.tags.2", '"Q4 K" is not a file type'],
      ["publish.ollama.latest", "latest is Q8_0, which publish.ollama.tags leaves out"],
    ]);
  });

  it("should refuse a push to ollama.com's library and adapters Ollama cannot apply as the run does", () => {
    expect(ollamaSettingsProblems({ settings: { ...settings, push: true } })[0]?.message).toMatch(/push to ollama.com needs a namespace/);
    expect(ollamaSettingsProblems({ settings: { ...settings, name: "me/tiny", push: true } })).toEqual([]);
    const two = [{ path: "a", scale: 1 }, { path: "b", scale: 1 }];
    expect(ollamaSettingsProblems({ settings, adapters: two, merge: false })).toEqual([expect.objectContaining({ path: ["adapters"], message: "Ollama applies one adapter per model and this recipe ships 2 unmerged" })]);
    expect(ollamaSettingsProblems({ settings, adapters: two })).toEqual([]);
    expect(ollamaSettingsProblems({ settings, adapters: [{ path: "a", scale: 0.5 }], merge: false })).toEqual([expect.objectContaining({ path: ["adapters", 0, "scale"] })]);
    expect(ollamaSettingsProblems({ settings, adapters: [{ path: "a", scale: 1 }], merge: false })).toEqual([]);
  });
});

describe("checkOllamaSettings and checkOllamaRecipe", () => {
  it("should throw the first problem as one PublishError line, exit 2", () => {
    expect(() => checkOllamaSettings({ settings: { ...settings, parameters: { num_ctx: "abc" } }, file: "recipe.json" })).toThrow(PublishError);
    try {
      checkOllamaSettings({ settings: { ...settings, parameters: { num_ctx: "abc" } }, file: "recipe.json" });
    } catch (error) {
      expect((error as PublishError).exitCode).toBe(2);
      expect((error as PublishError).toLine()).toBe('recipe.json: publish.ollama.parameters.num_ctx: num_ctx must be an integer, not "abc" — give num_ctx a whole number');
    }
  });

  it("should check the template file beside the recipe", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ollama-settings-"));
    const loaded = (template: string) => ({ dir, recipe: { source: { path: "m" }, publish: { ollama: { ...settings, template } } } }) as unknown as LoadedRecipe;
    expect(await checkOllamaRecipe(loaded("chat.tmpl"))).toEqual([expect.objectContaining({ path: ["publish", "ollama", "template"], message: `the template file ${join(dir, "chat.tmpl")} cannot be read` })]);
    await writeFile(join(dir, "chat.tmpl"), "{{ .Prompt }}");
    expect(await checkOllamaRecipe(loaded("chat.tmpl"))).toEqual([]);
  });
});
