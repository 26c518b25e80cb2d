import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunReport } from "@gguf-pipeline/core";
import { cli, jsonEvents, listTree, tempDir, tinyModel, writeRecipe } from "../helpers.js";
import { startOllama, type OllamaServer } from "../servers/ollama.js";

// `pipeline run` ending with the Ollama publish, and `pipeline publish --dry-run`, as a user runs them on a real server.
describe("publish to Ollama through the CLI", () => {
  let ollama: OllamaServer;
  let work: string;
  let recipe: string;
  let first: Awaited<ReturnType<typeof cli>>;

  beforeAll(async () => {
    ollama = await startOllama();
    work = await tempDir("ollama-cli");
    recipe = await writeRecipe(work, { name: "Tiny-Llama", source: { path: tinyModel }, convert: { outtype: "f32" }, quants: ["Q8_0"], publish: { ollama: { name: "tiny", system: "You are terse.", parameters: { temperature: 0 } } } });
    first = await cli(["run", recipe, "--json"], { env: { OLLAMA_HOST: ollama.host } });
  });
  afterAll(() => ollama.stop());

  it("should create a tag per model file on the server and write the Modelfile folders, recorded in report.json", async () => {
    expect(first.exitCode, first.all).toBe(0);
    const tags = ((await (await fetch(`${ollama.url}/api/tags`)).json()) as { models: { name: string }[] }).models.map((m) => m.name).sort();
    expect(tags).toEqual(["tiny:f32", "tiny:latest", "tiny:q8_0"]);
    const report = JSON.parse(await readFile(join(work, "out", "report.json"), "utf8")) as RunReport;
    expect(report.published?.ollama).toMatchObject({ folder: "ollama", host: ollama.url });
    expect(report.otherFiles).toBeUndefined();
    expect((await readdir(join(work, "out", "ollama"))).sort()).toEqual(["f32", "q8_0"]); // latest shares its target's folder
    const modelfile = await readFile(join(work, "out", "ollama", "q8_0", "Modelfile"), "utf8");
    expect(modelfile).toMatch(/^FROM \.\/Tiny-Llama-Q8_0\.gguf$/m);
    expect(modelfile).toMatch(/^TEMPLATE /m);
    const shown = (await (await fetch(`${ollama.url}/api/show`, { method: "POST", body: JSON.stringify({ model: "tiny:q8_0" }) })).json()) as { system?: string; template?: string };
    expect(shown.system).toBe("You are terse.");
    expect(shown.template).toContain("<|assistant|>");
  });

  it("should upload nothing and recreate nothing on an unchanged re-run, and plan without writing on a dry run", async () => {
    const again = await cli(["run", recipe, "--json"], { env: { OLLAMA_HOST: ollama.host } });
    expect(again.exitCode, again.all).toBe(0);
    expect(jsonEvents(again.stdout).find((e) => e.type === "done" && e.stage === "publish-ollama")).toMatchObject({ cached: true });
    const before = await listTree(join(work, "out"));
    const dry = await cli(["publish", recipe, "--dry-run"], { env: { OLLAMA_HOST: ollama.host } });
    expect(dry.exitCode, dry.all).toBe(0);
    expect(dry.stdout).toMatch(/FROM \.\/Tiny-Llama-Q8_0\.gguf/);
    expect(await listTree(join(work, "out"))).toEqual(before);
  });

  it("should refuse a refused connection and an unknown parameter with one line, exit 2, before any work", async () => {
    const fresh = await tempDir("ollama-cli-bad");
    const refused = await writeRecipe(fresh, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, publish: { ollama: { name: "tiny", host: "127.0.0.1:9" } } }, "refused.json");
    const result = await cli(["run", refused]);
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    const bogus = await writeRecipe(fresh, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, publish: { ollama: { name: "tiny", parameters: { bogus: 1 } } } }, "bogus.json");
    const rejected = await cli(["validate", bogus]);
    expect(rejected.exitCode, rejected.all).toBe(2);
    expect(rejected.stderr.trim()).toMatch(/^error: .*bogus\.json:\d+: .*bogus/);
    expect(await listTree(join(fresh, "out"))).toEqual(["<missing>"]);
  });
});
