import { cp, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGguf, type RunReport } from "@gguf-pipeline/core";
import { DEFAULT_WRITE_TOKEN, startHub, type HubServer } from "@gguf-pipeline/test-hub";
import { cli, fixturesDir, tempDir, toolchain, writeRecipe } from "../helpers.js";
import { api, greedy } from "../ollama-helpers.js";
import { startOllama, type OllamaServer } from "../servers/ollama.js";
import { hfVision, llamaPrompt, llamaVision, shapesImage, visionFamilies, visionModel, type VisionFamily } from "../vision-helpers.js";

/**
 * Vision-language fine-tunes (issue 24): the text model through the ladder and its projector once, both checked with an
 * image, both published — and the F32 pair answers an image as transformers does. Tiny random-weight models of three
 * architectures the pinned converter exports a projector for, each with its family's real vocabulary and template.
 */

// Below this gap between the two best logits, the two runtimes may pick either token: a tie, not a difference.
const TIE = 0.05;
const PROMPT = "What is in the picture?";
// The Ollama v0.24.0 runner answers images of these projectors (gemma3, idefics3); Qwen2-VL's it does not (M-RoPE).
const ollamaSees: Record<VisionFamily, boolean> = { gemma3: true, qwen2vl: false, idefics3: true };

let hub: HubServer;
let ollama: OllamaServer;

beforeAll(async () => {
  [hub, ollama] = await Promise.all([startHub(), startOllama()]);
}, 120_000);
afterAll(() => Promise.all([hub.stop(), ollama.stop()]));

const image64 = async () => (await readFile(shapesImage)).toString("base64");

for (const family of visionFamilies) {
  describe(`vision: ${family}`, () => {
    let work: string;
    let out: string;
    let run: Awaited<ReturnType<typeof cli>>;
    let report: RunReport;
    const name = `Vis-${family}`;
    const repo = `test-user/vis-${family}`;

    beforeAll(async () => {
      const model = await visionModel(family);
      work = await tempDir(`vision-${family}`);
      out = join(work, "out");
      const recipe = { name, source: { path: model }, convert: { outtype: "f32" }, mmproj: { outtype: "f32" }, quants: ["Q8_0"], validate: { tokens: 8 }, publish: { hf: { repo }, ollama: { name: `vis-${family}`, host: ollama.host } } };
      run = await cli(["run", await writeRecipe(work, recipe)], { env: { HF_ENDPOINT: hub.url, HF_TOKEN: DEFAULT_WRITE_TOKEN } });
      report = JSON.parse(await readFile(join(out, "report.json"), "utf8").catch(() => "{}")) as RunReport;
    }, 600_000);

    it("should make the text ladder and the projector once, and check both with an image", () => {
      expect(run.exitCode, run.all).toBe(0);
      const projector = report.artifacts.find((a) => a.stage === "mmproj");
      expect(projector).toMatchObject({ path: `mmproj-${name}-F32.gguf`, ggufType: "F32" });
      expect(report.artifacts.filter((a) => a.path.endsWith(".gguf")).map((a) => a.path).sort()).toEqual([`${name}-F32.gguf`, `${name}-Q8_0.gguf`, `mmproj-${name}-F32.gguf`].sort());
      const checks = (path: string) => Object.fromEntries((report.validation?.files[path]?.checks ?? []).map((c) => [c.name, c]));
      expect(checks(`mmproj-${name}-F32.gguf`)).toMatchObject({ projector: { ok: true }, "vision encoder": { ok: true }, "fits the text model": { ok: true } });
      for (const model of [`${name}-F32.gguf`, `${name}-Q8_0.gguf`]) {
        expect(checks(model)["image smoke test"], model).toMatchObject({ ok: true, fact: expect.stringMatching(/the image encoded by the projector/) as unknown });
        // Its memory counts the projector llama.cpp loads beside it.
        expect(report.validation?.files[model]?.memory?.[0]?.projectorBytes).toBe(projector?.bytes);
        expect(report.validation?.files[model]?.memory?.[0]?.imageComputeBytes).toBeGreaterThan(0);
      }
      expect(run.all).toMatch(new RegExp(`vision\\s+mmproj-${name}-F32\\.gguf \\(the projector`));
    });

    it("should stamp the projector as the text model: its name and the license the run decided", async () => {
      const [text, projector] = await Promise.all([readGguf({ file: join(out, `${name}-F32.gguf`) }), readGguf({ file: join(out, `mmproj-${name}-F32.gguf`) })]);
      expect(projector.metadata["general.type"]).toBe("mmproj");
      expect(projector.metadata["general.license"]).toBe(report.license?.id);
      expect(projector.metadata["general.license"]).toBe(text.metadata["general.license"]);
      expect(projector.metadata["general.name"]).toBe(text.metadata["general.name"]);
    });

    it("should answer an image as transformers does: the F32 text model and F32 projector, token for token up to a tie", async () => {
      const reference = await hfVision({ modelDir: await visionModel(family), image: shapesImage, prompt: PROMPT, tokens: 8 });
      // The same prompt on both sides: transformers' rendering, with llama.cpp's image marker (llamaPrompt says why).
      const ours = await llamaVision({ model: join(out, `${name}-F32.gguf`), projector: join(out, `mmproj-${name}-F32.gguf`), image: shapesImage, prompt: llamaPrompt(family, reference.prompt), tokens: 8, raw: true });
      const decided = reference.margins.findIndex((m) => m < TIE);
      const sure = decided === 0 ? "" : (reference.prefixes[(decided < 0 ? reference.prefixes.length : decided) - 1] ?? "");
      expect(sure.length, `${family}: the first token is already a tie`).toBeGreaterThan(0);
      expect(ours.startsWith(sure), `${family}: llama.cpp ${JSON.stringify(ours)}, transformers ${JSON.stringify(reference.text)} (margins ${reference.margins.join(", ")})`).toBe(true);
    });

    it("should plan both outputs before any work", async () => {
      const fresh = await tempDir(`vision-plan-${family}`);
      const plan = await cli(["plan", await writeRecipe(fresh, { name, source: { path: await visionModel(family) }, quants: ["Q4_K_M"] })]);
      expect(plan.exitCode, plan.all).toBe(0);
      expect(plan.stdout).toMatch(new RegExp(`will run\\s+mmproj\\s+.* → mmproj-${name}-F16\\.gguf, the \\S+ projector`));
      expect(plan.stdout).toMatch(new RegExp(`will run\\s+quantize\\s+${name}-Q4_K_M\\.gguf`));
    });

    it("should publish the projector to the Hub, where llama.cpp's own -hf fetches it with the model", async () => {
      expect(report.published?.hf?.[0]?.files.map((f) => f.path)).toContain(`mmproj-${name}-F32.gguf`);
      const readme = await (await fetch(`${hub.url}/${repo}/resolve/main/README.md`)).text();
      expect(readme).toMatch(/^pipeline_tag: image-text-to-text$/m);
      expect(readme).toContain(`llama-mtmd-cli -hf ${repo}:Q8_0`);
      const cache = await tempDir(`vision-hf-${family}`);
      const mark = hub.requests.length;
      const fetched = await llamaVision({ model: "", hf: `${repo}:Q8_0`, image: shapesImage, prompt: PROMPT, tokens: 4, env: { MODEL_ENDPOINT: `${hub.url}/`, LLAMA_CACHE: cache } });
      const local = await llamaVision({ model: join(out, `${name}-Q8_0.gguf`), projector: join(out, `mmproj-${name}-F32.gguf`), image: shapesImage, prompt: PROMPT, tokens: 4 });
      expect(fetched).toBe(local);
      const resolved = hub.requests.slice(mark).map((r) => r.path).filter((p) => p.includes("/resolve/"));
      expect(resolved.some((p) => p.endsWith(`/mmproj-${name}-F32.gguf`))).toBe(true);
      expect(resolved.some((p) => p.endsWith(`/${name}-Q8_0.gguf`))).toBe(true);
    });

    it(ollamaSees[family] ? "should give Ollama both FROM lines, and answer /api/chat with the image" : "should say before any work that Ollama cannot answer images with this projector, and publish the text model", async () => {
      const modelfile = await readFile(join(out, "ollama", "q8_0", "Modelfile"), "utf8");
      const froms = [...modelfile.matchAll(/^FROM (.*)$/gm)].map((m) => m[1]);
      const chat = (images: string[]) => api<{ message: { content: string } }>(ollama, "POST", "/api/chat", { model: `vis-${family}:q8_0`, messages: [{ role: "user", content: PROMPT, ...(images.length ? { images } : {}) }], options: { ...greedy, num_predict: 8 } });
      const plain = await chat([]);
      expect(plain.message.content.length).toBeGreaterThan(0);
      if (!ollamaSees[family]) {
        expect(froms).toEqual([`./${name}-Q8_0.gguf`]);
        expect(run.all).toMatch(new RegExp(`mmproj-${name}-F32\\.gguf: Ollama v0\\.24\\.0 does not answer images with a \\S+ projector`));
        return;
      }
      expect(froms).toEqual([`./${name}-Q8_0.gguf`, `./mmproj-${name}-F32.gguf`]);
      // SmolVLM's template takes typed message parts, which no converter turns into Go: written from its own prompts.
      expect(/Ollama template; the Modelfile's is written from the model's own prompts and renders every conversation compared as the model does/.test(run.all), family).toBe(family === "idefics3");
      expect(run.all).not.toMatch(/Ollama renders other prompts/);
      expect(run.all).toMatch(new RegExp(`mmproj-${name}-F32\\.gguf: Ollama v0\\.24\\.0 takes the projector \\(a second FROM\\) but feeds image embeddings`));
      // The image reaches the model: the answer is not the one without it.
      const seen = await chat([await image64()]);
      expect(seen.message.content.length).toBeGreaterThan(0);
      expect(seen.message.content).not.toBe(plain.message.content);
      const shown = await api<{ projector_info?: Record<string, unknown> }>(ollama, "POST", "/api/show", { model: `vis-${family}:q8_0` });
      expect(shown.projector_info).toBeDefined();
    });
  });
}

describe("vision: a Qwen2-VL saved by transformers 4.57", () => {
  it("should convert it although its config.json names its class only in text_config (the converter is given the top-level key)", async () => {
    const work = await tempDir("vision-nested");
    const model = join(work, "qwen2vl");
    await cp(await visionModel("qwen2vl"), model, { recursive: true });
    const config = JSON.parse(await readFile(join(model, "config.json"), "utf8")) as Record<string, unknown> & { text_config: Record<string, unknown> };
    const { architectures, ...rest } = config;
    await writeFile(join(model, "config.json"), JSON.stringify({ ...rest, text_config: { ...config.text_config, architectures } }, null, 2));
    const run = await cli(["run", await writeRecipe(work, { name: "Nested", source: { path: model }, convert: { outtype: "f16" }, validate: { tokens: 4 } })]);
    expect(run.exitCode, run.all).toBe(0);
    expect((await readdir(join(work, "out"))).filter((f) => f.endsWith(".gguf")).sort()).toEqual(["Nested-F16.gguf", "mmproj-Nested-F16.gguf"]);
    // The source folder is left as it was.
    expect(JSON.parse(await readFile(join(model, "config.json"), "utf8"))).not.toHaveProperty("architectures");
  });
});

describe("vision: adapters", () => {
  it("should merge a language-model adapter into a checkpoint of the other naming, and refuse one on the vision tower", async () => {
    const tc = await toolchain();
    const model = await visionModel("gemma3");
    const work = await tempDir("vision-lora");
    // A checkpoint saved before transformers 4.52 (language_model.model.*), an adapter trained after (model.language_model.*).
    const old = join(work, "old-naming");
    await cp(model, old, { recursive: true });
    await execa(tc.python, [join(fixturesDir, "rename_vlm_weights.py"), join(old, "model.safetensors")]);
    const adapter = join(work, "adapter");
    await execa(tc.python, [join(fixturesDir, "make_lora_adapter.py"), model, adapter, "--targets", "q_proj,v_proj"], { env: { HF_HUB_OFFLINE: "1" } });
    const merged = await cli(["run", await writeRecipe(work, { name: "VisLora", source: { path: old }, convert: { outtype: "f32" }, mmproj: { outtype: "f32" }, adapters: [{ path: adapter }], validate: { tokens: 4 } })]);
    expect(merged.exitCode, merged.all).toBe(0);
    expect((await readdir(join(work, "out"))).filter((f) => f.endsWith(".gguf"))).toEqual(expect.arrayContaining(["VisLora-F32.gguf", "VisLora-base-F32.gguf", "mmproj-VisLora-F32.gguf"]));
    const report = JSON.parse(await readFile(join(work, "out", "report.json"), "utf8")) as RunReport;
    expect(report.validation?.files["VisLora-F32.gguf"]?.checks.find((c) => c.name === "image smoke test")?.ok).toBe(true);
    // The adapter changes what the model says about the image.
    const base = await llamaVision({ model: join(work, "out", "VisLora-base-F32.gguf"), projector: join(work, "out", "mmproj-VisLora-F32.gguf"), image: shapesImage, prompt: PROMPT, tokens: 6 });
    const tuned = await llamaVision({ model: join(work, "out", "VisLora-F32.gguf"), projector: join(work, "out", "mmproj-VisLora-F32.gguf"), image: shapesImage, prompt: PROMPT, tokens: 6 });
    expect(tuned).not.toBe(base);
    const towerAdapter = join(work, "tower-adapter");
    await execa(tc.python, [join(fixturesDir, "make_lora_adapter.py"), model, towerAdapter, "--targets", "q_proj,v_proj", "--vision-tower"], { env: { HF_HUB_OFFLINE: "1" } });
    const refused = await cli(["run", await writeRecipe(work, { name: "VisTower", source: { path: model }, adapters: [{ path: towerAdapter }] }, "tower.json")]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr.split("\n").filter((l) => l.startsWith("error:"))).toEqual([expect.stringMatching(/adapter_model\.safetensors: the adapter adapts model\.vision_tower\.\S+, in the vision tower: llama\.cpp merges adapters into the text model only/)]);
  });
});
