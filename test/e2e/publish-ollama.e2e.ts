import { copyFile, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PipelineError } from "@gguf-pipeline/core";
import { checkOllamaAccess, formatOllamaPlan, planOllama, publishToOllama, PublishError } from "@gguf-pipeline/publish";
import type { OllamaSettings, PublishToOllamaParams } from "@gguf-pipeline/publish";
import { cosine, tinyEmbedModel } from "../embed-helpers.js";
import { copyTiny, makeLoraAdapter, makeTinyModel, repoRoot, tempDir, tinyModel, toolchain } from "../helpers.js";
import { api, chat, drain, fixtureRun, generate, llamaChat, shownParameters, tagNames } from "../ollama-helpers.js";
import type { FixtureRun, ShowResponse } from "../ollama-helpers.js";
import { freePort } from "../servers/free-port.js";
import { startOllama } from "../servers/ollama.js";
import type { OllamaServer } from "../servers/ollama.js";
import { startRegistry } from "../servers/registry.js";
import type { RegistryServer } from "../servers/registry.js";

const system = "You are tiny.";
const mit = join(repoRoot, "packages", "validate", "fixtures", "licenses", "mit");
// What @huggingface/ollama-utils makes of the tiny model's template, BOS left to the tokenizer (which adds it).
const tinyTemplate = "{{ if .System }}<|system|>\n{{ .System }}</s>\n{{ end }}{{ if .Prompt }}<|user|>\n{{ .Prompt }}</s>\n{{ end }}<|assistant|>\n{{ .Response }}</s>\n";

let ollama: OllamaServer;
let registry: RegistryServer;
let work: string;
let runs: Record<"main" | "wide" | "adapter" | "merged" | "odd" | "embed", Promise<FixtureRun>>;

/** Started now, awaited by the tests that need it: a failure belongs to those tests, not to an unhandled rejection. */
function started<T>(make: () => Promise<T>): Promise<T> {
  const promise = make();
  promise.catch(() => undefined);
  return promise;
}

function publish(run: FixtureRun, settings: Partial<OllamaSettings> & { name: string }, extra: Partial<PublishToOllamaParams> = {}) {
  return drain(publishToOllama({ ...run.input, settings: { push: false, insecure: false, ...settings }, host: ollama.url, ...extra }));
}

/** The one line a failed publish prints, and its exit code. */
async function failure(promise: Promise<unknown>): Promise<{ line: string; exitCode: number; error: PipelineError }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PipelineError)) throw new Error(`expected a PipelineError, got ${String(error)}`);
  return { line: error.toLine(), exitCode: error.exitCode, error };
}

beforeAll(async () => {
  work = await tempDir("publish-ollama");
  const tiny = { convert: { outtype: "f32" } };
  const lora = started(() => makeLoraAdapter({ base: tinyModel, out: join(work, "lora"), seed: 7, rank: 4 }));
  // Every fixture run starts at once (two cores do the work), the servers beside them.
  runs = {
    main: started(async () => {
      // The tiny model under an MIT card with its LICENSE: the license text ships, and goes into LICENSE.
      const model = await copyTiny(join(work, "main"));
      await copyFile(join(mit, "README.md"), join(model, "README.md"));
      await copyFile(join(mit, "LICENSE"), join(model, "LICENSE"));
      return fixtureRun(join(work, "main"), { name: "Tiny", source: { path: "model" }, ...tiny, quants: ["Q8_0", "Q4_K_M"] });
    }),
    wide: started(async () => {
      await makeTinyModel({ out: join(work, "wide", "model"), hidden: 256, steps: 5 });
      // Real IQ and K blocks at 256 wide; F16 over 2 MB is split, and must be joined for Ollama.
      return fixtureRun(join(work, "wide"), { name: "Wide", source: { path: "model" }, ...tiny, imatrix: { ctx: 64, chunks: 16 }, quants: ["IQ2_XXS", "IQ3_S", "IQ4_XS", "Q3_K_M", "Q6_K", "F16"], split: { maxSize: "2M" } });
    }),
    // The same adapter shipped beside the base (merge: false) and merged into it.
    adapter: started(async () => fixtureRun(join(work, "adapter"), { name: "Tuned", source: { path: tinyModel }, ...tiny, adapters: [{ path: await lora }], merge: false })),
    merged: started(async () => fixtureRun(join(work, "merged"), { name: "Tuned", source: { path: tinyModel }, ...tiny, adapters: [{ path: await lora }] })),
    odd: started(async () => {
      // A chat template llama.cpp reads but nothing converts (a filter no Jinja has): the smoke test is off.
      const model = await copyTiny(join(work, "odd"));
      await writeFile(join(model, "chat_template.jinja"), "{% for message in messages %}{{ message['content'] | frobnicate }}{% endfor %}");
      return fixtureRun(join(work, "odd"), { name: "Odd", source: { path: "model" }, ...tiny, validate: { smoke: "none" } });
    }),
    embed: started(async () => fixtureRun(join(work, "embed"), { name: "Tiny-Embed", source: { path: await tinyEmbedModel() }, ...tiny, quants: ["Q8_0"] })),
  };
  [ollama, registry] = await Promise.all([startOllama(), startRegistry()]);
});

afterAll(async () => {
  await Promise.all([ollama?.stop(), registry?.stop()]);
});

describe("publishToOllama: the fixture run's quants on a real ollama serve", () => {
  let run: FixtureRun;
  let license: string;

  beforeAll(async () => {
    run = await runs.main;
    license = await readFile(join(run.outDir, "LICENSE"), "utf8");
  });

  it("should create a tag per model file and latest, uploading each GGUF once, with a self-contained folder per tag", async () => {
    const { value, events } = await publish(run, { name: "tiny", system, parameters: { num_ctx: 256 } });
    expect(value).toEqual({
      folder: "ollama",
      host: ollama.url,
      uploadedBlobs: 3,
      tags: [
        { tag: "tiny:f32", file: "Tiny-F32.gguf", folder: "ollama/f32", created: true, pushed: false },
        { tag: "tiny:q8_0", file: "Tiny-Q8_0.gguf", folder: "ollama/q8_0", created: true, pushed: false },
        { tag: "tiny:q4_k_m", file: "Tiny-Q4_K_M.gguf", folder: "ollama/q4_k_m", created: true, pushed: false },
        { tag: "tiny:latest", file: "Tiny-Q4_K_M.gguf", folder: "ollama/q4_k_m", created: true, pushed: false },
      ],
    });
    expect(events.at(-1)).toMatchObject({ type: "done", stage: "publish-ollama", title: expect.stringMatching(new RegExp(`^tiny on ${ollama.url}: 4 of 4 tag\\(s\\) created, 3 blob\\(s\\) uploaded \\(7\\d\\d KB\\)$`)) as unknown });
    expect(events.filter((e) => e.type === "progress").map((e) => e.message)).toContain("tiny:q8_0: success");
    expect(await tagNames(ollama)).toEqual(["tiny:f32", "tiny:latest", "tiny:q4_k_m", "tiny:q8_0"]);
    expect((await readdir(join(run.outDir, "ollama"))).sort()).toEqual(["f32", "q4_k_m", "q8_0"]);
    expect((await readdir(join(run.outDir, "ollama", "q8_0"))).sort()).toEqual(["Modelfile", "Tiny-Q8_0.gguf"]);
    // A hard link: the same bytes, no space used.
    expect((await stat(join(run.outDir, "ollama", "q8_0", "Tiny-Q8_0.gguf"))).ino).toBe((await stat(join(run.outDir, "Tiny-Q8_0.gguf"))).ino);
  });

  it("should show our template, the stop strings with the model's EOS, the system prompt, num_ctx and the shipped license", async () => {
    for (const model of ["tiny:q8_0", "tiny:latest"]) {
      const shown = await api<ShowResponse>(ollama, "POST", "/api/show", { model });
      expect(shown.template, model).toBe(tinyTemplate);
      expect(shownParameters(shown.parameters)).toEqual({ num_ctx: [256], stop: ["<s>", "<|system|>", "<|user|>", "<|assistant|>", "</s>"] });
      expect(shown.system).toBe(system);
      expect(shown.license).toBe(license);
      expect(license).toMatch(/^MIT License/);
    }
    expect((await api<ShowResponse>(ollama, "POST", "/api/show", { model: "tiny:q4_k_m" })).details.quantization_level).toBe("Q4_K_M");
  });

  it("should generate tokens on every tag", async () => {
    for (const model of ["tiny:f32", "tiny:q8_0", "tiny:q4_k_m", "tiny:latest"]) {
      const out = await generate(ollama, model, "Once upon a time");
      expect(out.eval_count, model).toBeGreaterThan(0);
      expect(out.response.trim().length, model).toBeGreaterThan(0);
    }
  });

  it("should chat on Q8_0 exactly as llama-completion --jinja does through the GGUF's own chat template, with and without a system prompt", async () => {
    const gguf = join(run.outDir, "Tiny-Q8_0.gguf");
    const user = "Hello! Who are you?";
    // The Modelfile's SYSTEM is used when the request brings none; an empty system message turns it off.
    const withSystem = await chat(ollama, "tiny:q8_0", [{ role: "user", content: user }]);
    expect(withSystem.trim()).toBe(await llamaChat({ gguf, system, user, tokens: 16 }));
    const without = await chat(ollama, "tiny:q8_0", [{ role: "system", content: "" }, { role: "user", content: user }]);
    expect(without.trim()).toBe(await llamaChat({ gguf, user, tokens: 16 }));
    expect(without).not.toBe(withSystem);
  });

  it("should upload nothing and recreate nothing the second time; a changed system prompt re-creates every tag from the blobs already there", async () => {
    const again = await publish(run, { name: "tiny", system, parameters: { num_ctx: 256 } });
    expect(again.value.uploadedBlobs).toBe(0);
    expect(again.value.tags.map((t) => t.created)).toEqual([false, false, false, false]);
    expect(again.events.at(-1)).toMatchObject({ type: "done", title: `tiny on ${ollama.url}: 4 tag(s) up to date, 0 blob(s) uploaded`, cached: true });
    expect(again.events.filter((e) => e.type === "progress" && e.message.includes("Modelfile")).map((e) => e.type === "progress" && e.message.endsWith("(unchanged)"))).toEqual([true, true, true]);
    const changed = await publish(run, { name: "tiny", system: "You are very tiny.", parameters: { num_ctx: 256 } });
    expect(changed.value.uploadedBlobs).toBe(0);
    expect(changed.value.tags.map((t) => t.created)).toEqual([true, true, true, true]);
    expect((await api<ShowResponse>(ollama, "POST", "/api/show", { model: "tiny:q8_0" })).system).toBe("You are very tiny.");
    await publish(run, { name: "tiny", system, parameters: { num_ctx: 256 } });
  });

  it("should make folders the real `ollama create -f` takes from another working directory", async () => {
    const elsewhere = await tempDir("elsewhere");
    const modelfile = join(run.outDir, "ollama", "q8_0", "Modelfile");
    const created = await execa(ollama.bin, ["create", "by-hand:q8_0", "-f", modelfile], { cwd: elsewhere, env: { OLLAMA_HOST: ollama.host, HOME: ollama.home }, reject: false, all: true });
    expect(created.exitCode, created.all).toBe(0);
    const [ours, theirs] = await Promise.all([api<ShowResponse>(ollama, "POST", "/api/show", { model: "tiny:q8_0" }), api<ShowResponse>(ollama, "POST", "/api/show", { model: "by-hand:q8_0" })]);
    expect(theirs.template).toBe(ours.template);
    expect(theirs.system).toBe(ours.system);
    expect(theirs.license).toBe(ours.license);
    expect(shownParameters(theirs.parameters)).toEqual(shownParameters(ours.parameters));
    // The same model blob: the folder's link is the run's file.
    expect(theirs.modelfile.match(/^FROM .*(sha256-[0-9a-f]{64})$/m)?.[1]).toBe(ours.modelfile.match(/^FROM .*(sha256-[0-9a-f]{64})$/m)?.[1]);
    expect((await generate(ollama, "by-hand:q8_0", "Once upon a time")).response).toBe((await generate(ollama, "tiny:q8_0", "Once upon a time")).response);
  });

  it("should push each tag to a registry, and pull it back after a delete to the same output", async () => {
    const name = `${registry.host}/library/tiny`;
    const { value, events } = await publish(run, { name, system, tags: ["Q8_0"], push: true, insecure: true });
    expect(value.tags).toEqual([expect.objectContaining({ tag: `${name}:q8_0`, created: true, pushed: true }), expect.objectContaining({ tag: `${name}:latest`, created: true, pushed: true })]);
    expect(events.some((e) => e.type === "progress" && e.message.startsWith(`${name}:q8_0: pushing`))).toBe(true);
    const before = await generate(ollama, `${name}:q8_0`, "Once upon a time");
    await api(ollama, "DELETE", "/api/delete", { model: `${name}:q8_0` });
    expect(await tagNames(ollama)).not.toContain(`${name}:q8_0`);
    expect(await api<{ status: string }>(ollama, "POST", "/api/pull", { model: `${name}:q8_0`, insecure: true })).toMatchObject({ status: "success" });
    const after = await generate(ollama, `${name}:q8_0`, "Once upon a time");
    expect(after.response).toBe(before.response);
    expect(after.eval_count).toBe(before.eval_count);
  });
});

describe("publishToOllama: quant types, split quants, adapters", () => {
  it("should plan without writing, then load and generate IQ and K quants of a 256-wide model, a split F16 joined into one file", async () => {
    const run = await runs.wide;
    const params = { ...run.input, settings: { name: "wide", push: false, insecure: false }, host: ollama.url, toolchain: await toolchain() };
    const lines = formatOllamaPlan(await planOllama(params));
    expect(lines).toContain("wide:iq2_xxs  create  ollama/iq2_xxs/Modelfile  (template: converted from the GGUF's chat template)");
    expect(lines).toContain("  | FROM ./Wide-IQ2_XXS.gguf");
    expect(lines.find((l) => l.startsWith("  upload after joining"))).toMatch(/^ {2}upload after joining {2}Wide-F16\.gguf +\d\.\d MB {2}sha256 after joining \(joined from 2 shards\)$/);
    expect(lines.at(-1)).toMatch(/^ {2}7 to upload \(/);
    const dry = await drain(publishToOllama({ ...params, dryRun: true }));
    expect(dry.value.tags.every((t) => !t.created)).toBe(true);
    expect(await readdir(run.outDir)).not.toContain("ollama");

    const { value } = await drain(publishToOllama(params));
    expect(value.tags.map((t) => t.tag)).toEqual(["wide:f32", "wide:iq2_xxs", "wide:iq3_s", "wide:iq4_xs", "wide:q3_k_m", "wide:q6_k", "wide:f16", "wide:latest"]);
    expect(value.tags.find((t) => t.tag === "wide:f16")).toMatchObject({ file: "Wide-F16-00001-of-00002.gguf", created: true });
    expect(await readdir(join(run.outDir, "ollama", "f16"))).toEqual(expect.arrayContaining(["Modelfile", "Wide-F16.gguf"]));
    for (const t of value.tags) {
      const out = await generate(ollama, t.tag, "Once upon a time");
      expect(out.eval_count, t.tag).toBeGreaterThan(0);
    }
    // Ollama's own table names K quants; IQ types show as "unknown" there, and load all the same.
    expect((await api<ShowResponse>(ollama, "POST", "/api/show", { model: "wide:q3_k_m" })).details.quantization_level).toBe("Q3_K_M");
    // The joined file is kept and reused: nothing joined, uploaded or created again.
    const joined = await stat(join(run.outDir, "ollama", ".merged", "Wide-F16.gguf"));
    const again = await drain(publishToOllama(params));
    expect(again.value.uploadedBlobs).toBe(0);
    expect(again.events.some((e) => e.type === "progress" && e.message.startsWith("joining"))).toBe(false);
    expect((await stat(join(run.outDir, "ollama", ".merged", "Wide-F16.gguf"))).mtimeMs).toBe(joined.mtimeMs);
  });

  it("should load an adapter shipped unmerged through ADAPTER, changing the output as the merged model does", async () => {
    const [unmerged, merged, base] = await Promise.all([runs.adapter, runs.merged, runs.main]);
    const lora = await publish(unmerged, { name: "tuned-lora" });
    expect(lora.value.tags.map((t) => t.tag)).toEqual(["tuned-lora:f32", "tuned-lora:latest"]);
    expect(await readFile(join(unmerged.outDir, "ollama", "f32", "Modelfile"), "utf8")).toMatch(/^FROM \.\/Tuned-F32\.gguf\nADAPTER \.\/Tuned-lora-LoRA-F32\.gguf\n/m);
    expect((await api<ShowResponse>(ollama, "POST", "/api/show", { model: "tuned-lora:f32" })).modelfile).toMatch(/^ADAPTER .*sha256-[0-9a-f]{64}$/m);
    await publish(merged, { name: "tuned-merged" });
    await publish(base, { name: "tiny", system, parameters: { num_ctx: 256 } });
    for (const prompt of ["The river", "A good tool is"]) {
      const [withAdapter, mergedOut, baseOut] = await Promise.all([generate(ollama, "tuned-lora:f32", prompt), generate(ollama, "tuned-merged:f32", prompt), generate(ollama, "tiny:f32", prompt)].map((p) => p.then((r) => r.response)));
      expect(withAdapter, prompt).toBe(mergedOut);
      expect(withAdapter, prompt).not.toBe(baseOut);
    }
  });
});

describe("publishToOllama: what it refuses", () => {
  it("should refuse a chat template it cannot convert before anything is written or uploaded, and pass with the recipe's template", async () => {
    const run = await runs.odd;
    const refused = await failure(publish(run, { name: "odd" }));
    expect(refused.exitCode).toBe(2);
    expect(refused.line).toBe("Odd-F32.gguf: its chat template (tokenizer.chat_template) cannot be converted to an Ollama Go template — write the Go template (e.g. {{ .Prompt }} for a base model) into a file and set publish.ollama.template to it");
    expect(await readdir(run.outDir)).not.toContain("ollama");
    expect((await fetch(`${ollama.url}/api/blobs/sha256:${run.report.artifacts[0]?.sha256 ?? ""}`, { method: "HEAD" })).status).toBe(404);
    expect(await tagNames(ollama)).not.toContain("odd:f32");

    const template = "{{ if .System }}{{ .System }}\n{{ end }}<|user|>\n{{ .Prompt }}</s>\n<|assistant|>\n";
    await writeFile(join(run.input.recipeDir, "chat.tmpl"), template);
    const { value } = await publish(run, { name: "odd", template: "chat.tmpl" });
    expect(value.tags.map((t) => t.created)).toEqual([true, true]);
    const shown = await api<ShowResponse>(ollama, "POST", "/api/show", { model: "odd:f32" });
    expect(shown.template).toBe(template);
    expect(shownParameters(shown.parameters)).toEqual({ stop: ["</s>"] });
    expect((await generate(ollama, "odd:f32", "Once upon a time")).eval_count).toBeGreaterThan(0);
  });

  it("should give one clear line for a wrong host, a refused connection, a server error and a template the server rejects", async () => {
    const refusedPort = await freePort();
    expect(await failure(checkOllamaAccess({ host: `http://127.0.0.1:${refusedPort}` }))).toMatchObject({
      exitCode: 2,
      line: `cannot reach the Ollama server at http://127.0.0.1:${refusedPort} (connection refused) — start \`ollama serve\` there, or fix publish.ollama.host / OLLAMA_HOST`,
    });
    expect((await failure(checkOllamaAccess({ host: "http://no-such-host.invalid:11434" }))).line).toBe("cannot reach the Ollama server at http://no-such-host.invalid:11434 (host not found) — start `ollama serve` there, or fix publish.ollama.host / OLLAMA_HOST");
    // A server that is not Ollama: the registry.
    expect((await failure(checkOllamaAccess({ host: registry.url }))).line).toBe(`the Ollama server at ${registry.url} answered /api/version with HTTP 404 (it is not an Ollama server) — start \`ollama serve\` there, or fix publish.ollama.host / OLLAMA_HOST`);
    // A server that fails (a proxy in front of a broken Ollama).
    const broken = createServer((_req, res) => res.writeHead(500, { "content-type": "text/plain" }).end("upstream failed"));
    await new Promise<void>((resolve) => broken.listen(0, "127.0.0.1", resolve));
    const address = broken.address();
    const brokenUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    try {
      expect(await failure(checkOllamaAccess({ host: brokenUrl }))).toMatchObject({ exitCode: 2, line: `the Ollama server at ${brokenUrl} answered /api/version with HTTP 500 (a server error) — start \`ollama serve\` there, or fix publish.ollama.host / OLLAMA_HOST` });
    } finally {
      broken.close();
    }
    expect(await checkOllamaAccess({ host: ollama.url })).toEqual({ version: "0.24.0" });
    // Ollama answers 200 and reports the failure in the stream: that is a failure.
    const run = await runs.odd;
    await writeFile(join(run.input.recipeDir, "broken.tmpl"), "{{ .Prompt ");
    const rejected = await failure(publish(run, { name: "odd-broken", template: "broken.tmpl" }));
    expect(rejected.exitCode).toBe(2);
    expect(rejected.line).toBe('creating odd-broken:f32: Ollama says "template error: template: :1: unclosed action" — the TEMPLATE is not a Go template Ollama can parse: fix the file publish.ollama.template names');
    expect(rejected.line).not.toContain("\n");
    expect(rejected.error).toBeInstanceOf(PublishError);
  });

  it("should refuse mistyped and unknown parameters before any work", async () => {
    const run = await runs.main;
    expect((await failure(publish(run, { name: "tiny-bad", parameters: { num_ctx: "abc" } }))).line).toBe('publish.ollama.parameters.num_ctx: num_ctx must be an integer, not "abc" — give num_ctx a whole number');
    expect((await failure(publish(run, { name: "tiny-bad", parameters: { bogus: 1 } }))).exitCode).toBe(2);
    expect(await tagNames(ollama)).not.toContain("tiny-bad:f32");
  });
});

describe("publishToOllama: an embedding model", () => {
  it("should publish without TEMPLATE or stop, and answer /api/embed with the model's vectors", async () => {
    const run = await runs.embed;
    // Without a host, the folders alone: nothing reaches a server.
    const local = await drain(publishToOllama({ ...run.input, settings: { name: "tiny-embed", push: false, insecure: false } }));
    expect(local.value).toMatchObject({ folder: "ollama", uploadedBlobs: 0, tags: [{ created: false }, { created: false }, { created: false }] });
    expect(local.value.host).toBeUndefined();
    expect(local.events.at(-1)).toMatchObject({ type: "done", title: "tiny-embed: 3 tag(s) as Modelfile folders in ollama/ (no server: set publish.ollama.host or OLLAMA_HOST to create them)" });
    expect((await readdir(join(run.outDir, "ollama"))).sort()).toEqual(["f32", "q8_0"]);
    expect(await tagNames(ollama)).not.toContain("tiny-embed:f32");
    const { value } = await publish(run, { name: "tiny-embed" });
    expect(value.tags.map((t) => t.tag)).toEqual(["tiny-embed:f32", "tiny-embed:q8_0", "tiny-embed:latest"]);
    const modelfile = await readFile(join(run.outDir, "ollama", "f32", "Modelfile"), "utf8");
    expect(modelfile).not.toMatch(/^(TEMPLATE|PARAMETER stop)/m);
    const shown = await api<ShowResponse>(ollama, "POST", "/api/show", { model: "tiny-embed:f32" });
    expect(shown.capabilities).toContain("embedding");
    expect(shownParameters(shown.parameters)).toEqual({});
    const input = ["The river runs to the sea.", "A good tool is a joy."];
    const [f32, q8] = await Promise.all(["tiny-embed:f32", "tiny-embed:q8_0"].map((model) => api<{ embeddings: number[][] }>(ollama, "POST", "/api/embed", { model, input })));
    expect(f32?.embeddings).toHaveLength(2);
    for (const [i, vector] of (f32?.embeddings ?? []).entries()) {
      expect(Math.hypot(...vector)).toBeCloseTo(1, 3);
      expect(cosine(vector, q8?.embeddings[i] ?? [])).toBeGreaterThan(0.99);
    }
    expect(cosine(f32?.embeddings[0] ?? [], f32?.embeddings[1] ?? [])).toBeLessThan(0.999);
  });
});
