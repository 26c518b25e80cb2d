import { cp, link, mkdir, open, readFile, rename, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunReport } from "@gguf-pipeline/core";
import { DEFAULT_WRITE_TOKEN, startHub, type HubServer } from "@gguf-pipeline/test-hub";
import { literal, sha256File, stderrLines } from "../fault-helpers.js";
import { cli, cliBin, copyTiny, jsonEvents, listTree, repoRoot, tempDir, tinyModel, writeRecipe } from "../helpers.js";

/**
 * The trust boundaries (issue 22): what the tool reads into a publish or writes, what reaches a terminal, what a cache
 * key stands for, how long a request may hang. Each case asserts the exact line the user sees; each failed before its fix.
 */

const repo = "test-user/tiny-trust";
let hub: HubServer;
let clean: { work: string; out: string; recipe: Record<string, unknown> };

const recipeOf = (extra: Record<string, unknown> = {}) => ({ name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, quants: ["Q8_0"], validate: { smoke: "none" }, publish: { hf: { repo } }, ...extra });
const hubEnv = (extra: Record<string, string> = {}) => ({ HF_ENDPOINT: hub.url, HF_TOKEN: DEFAULT_WRITE_TOKEN, ...extra });
const errorLines = (result: { stderr?: unknown }) => stderrLines(result).filter((l) => l.startsWith("error:"));

beforeAll(async () => {
  hub = await startHub();
  const work = await tempDir("trust");
  const recipe = recipeOf();
  const run = await cli(["run", await writeRecipe(work, recipe), "--no-publish"]);
  expect(run.exitCode, run.all).toBe(0);
  clean = { work, out: join(work, "out"), recipe };
}, 120_000);
afterAll(() => hub.stop());

/** A folder with the recipe and a copy of the clean run's output (timestamps kept). */
async function cleanCopy(prefix: string, recipe: Record<string, unknown> = clean.recipe): Promise<{ work: string; out: string; recipe: string }> {
  const work = await tempDir(prefix);
  const out = join(work, "out");
  await cp(clean.out, out, { recursive: true, preserveTimestamps: true });
  return { work, out, recipe: await writeRecipe(work, recipe) };
}

describe("trust: nothing outside the run reaches a publish or is written by gather", () => {
  it("should refuse a part whose report.json names a file outside its folder, and write nothing (gather)", async () => {
    const part = await cleanCopy("trust-gather-part");
    const evil = join(part.out, "..", "..", "parts", "p1", "evil.sh");
    await mkdir(join(evil, ".."), { recursive: true });
    await writeFile(evil, "#!/bin/sh\necho owned\n");
    const report = JSON.parse(await readFile(join(part.out, "report.json"), "utf8")) as RunReport;
    report.artifacts.push({ path: "../../parts/p1/evil.sh", stage: "quantize", sha256: await sha256File(evil), bytes: (await stat(evil)).size, cacheKey: "x" });
    await writeFile(join(part.out, "report.json"), JSON.stringify(report));
    const work = await tempDir("trust-gather");
    const recipe = await writeRecipe(work, clean.recipe);
    const gathered = await cli(["gather", recipe, part.out, "--out", join(work, "out")]);
    expect(gathered.exitCode, gathered.all).toBe(2);
    expect(errorLines(gathered)).toEqual([`error: ${join(part.out, "report.json")}: lists the file "../../parts/p1/evil.sh", which reaches out of its folder (..) — a report.json names only files beside it: use the folder as \`pipeline run\` left it`]);
    expect(await listTree(join(work, "out")).catch(() => [])).toEqual([]);
  });

  it("should refuse to publish a run file that is a link out of the output folder, even with a forged state entry", async () => {
    const { out, recipe } = await cleanCopy("trust-publish-link");
    const secret = join(out, "..", "id_rsa");
    const key = await readFile(join(out, "Tiny-Q8_0.gguf"));
    await writeFile(secret, key); // the "key" has the quant's bytes, so report.json's size and sha256 both match
    await rm(join(out, "Tiny-Q8_0.gguf"));
    await symlink(secret, join(out, "Tiny-Q8_0.gguf"));
    // The state says the file is as the run left it: same size, sha256, mtime and ctime as what the link leads to.
    const statePath = join(out, ".pipeline", "state.json");
    const state = JSON.parse(await readFile(statePath, "utf8")) as { artifacts: Record<string, { mtimeMs: number; ctimeMs?: number }> };
    const info = await stat(secret);
    Object.assign(state.artifacts["Tiny-Q8_0.gguf"] ?? {}, { mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs });
    await writeFile(statePath, JSON.stringify(state));
    const before = hub.writeRequests().length;
    const published = await cli(["publish", recipe], { env: hubEnv() });
    expect(published.exitCode, published.all).toBe(2);
    expect(errorLines(published)).toEqual([`error: ${join(out, "Tiny-Q8_0.gguf")}: is a link to ${secret}, outside ${out} — only the run's own files are published: run the pipeline again`]);
    expect(hub.writeRequests().length).toBe(before);
  });

  it("should refuse a license or notice file that links out of the model folder, and take a Hub cache snapshot's links into its blobs", async () => {
    const work = await tempDir("trust-notice");
    const model = await copyTiny(work);
    const secret = join(work, "id_rsa");
    await writeFile(secret, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    await symlink(secret, join(model, "NOTICE"));
    const recipe = await writeRecipe(work, { ...clean.recipe, source: { path: model } });
    const checked = await cli(["validate", recipe]);
    expect(checked.exitCode, checked.all).toBe(2);
    expect(errorLines(checked)).toEqual([`error: ${join(model, "NOTICE")}: is a link to ${secret}, outside ${model} — the pipeline ships only files inside the model folder (a Hub cache snapshot's links into its blobs/ are fine): copy the file in, or remove the link`]);

    // A snapshot of the Hub's cache: every file a link into ../../blobs, LICENSE included.
    const cacheRepo = join(work, "hub", "models--test--tiny");
    const snapshot = join(cacheRepo, "snapshots", "0123abcd");
    await mkdir(snapshot, { recursive: true });
    await mkdir(join(cacheRepo, "blobs"));
    for (const name of [...(await listTree(tinyModel)), "LICENSE"]) {
      const blob = join(cacheRepo, "blobs", `blob-${name.replace(/\W/g, "_")}`);
      if (name === "LICENSE") await writeFile(blob, "Apache License\nVersion 2.0, January 2004\n");
      else await cp(join(tinyModel, name), blob);
      await symlink(join("..", "..", "blobs", `blob-${name.replace(/\W/g, "_")}`), join(snapshot, name));
    }
    const fromCache = await cli(["validate", await writeRecipe(work, { ...clean.recipe, source: { path: snapshot } }, "cache.json")]);
    expect(fromCache.exitCode, fromCache.all).toBe(0);
  });
});

describe("trust: no secret in any output, nothing a server or file says acts on the terminal", () => {
  it("should redact the token a server echoes, and print its control characters as escapes", async () => {
    const fault = hub.inject({ match: { pathPattern: "^/api/whoami-v2$" }, kind: "status", status: 401, message: "Invalid credentials in Authorization header: {authorization}\u001b]0;owned\u0007", times: Infinity });
    try {
      const { recipe } = await cleanCopy("trust-echo");
      const run = await cli(["run", recipe, "--json"], { env: hubEnv() });
      expect(run.exitCode, run.all).toBe(2);
      expect(errorLines(run)).toEqual([
        `error: HF_TOKEN was not accepted by ${hub.url} (401: Invalid credentials in Authorization header: Bearer ***\\x1b]0;owned\\x07) — the token is wrong, expired or revoked: create a write token at ${hub.url}/settings/tokens`,
      ]);
      expect(run.all).not.toContain(DEFAULT_WRITE_TOKEN);
      expect(run.all).not.toContain("\u001b");
      expect(jsonEvents(run.stdout).find((e) => e.type === "error")?.message).toMatch(/Bearer \*\*\*/);
    } finally {
      fault.remove();
    }
  });

  it("should print a model card's license line with its escape characters shown, not played", async () => {
    const work = await tempDir("trust-card");
    const model = await copyTiny(work);
    const card = await readFile(join(model, "README.md"), "utf8");
    await writeFile(join(model, "README.md"), card.replace("license: apache-2.0", 'license: "apache-2.0\\u001b[2J"'));
    const recipe = await writeRecipe(work, { ...clean.recipe, source: { path: model }, metadata: { license: "apache-2.0" } });
    const checked = await cli(["validate", recipe]);
    expect(checked.all).not.toContain("\u001b");
    expect(checked.all).toContain("\\x1b[2J");
  });
});

describe("trust: a cache key is what the tool read; a changed file is never a hit", () => {
  it("should not keep a conversion whose source file was replaced (and put back) while the converter ran", async () => {
    const work = await tempDir("trust-swap");
    const model = await copyTiny(work);
    const weights = join(model, "model.safetensors");
    const recipe = await writeRecipe(work, { name: "Tiny", source: { path: model }, convert: { outtype: "f32" }, validate: { smoke: "none" } });
    const child = execa("node", [cliBin, "run", recipe, "--json"], { reject: false, cwd: repoRoot, env: { CI: "1" } });
    let swapped = false;
    child.stdout?.on("data", (chunk: Buffer) => {
      // The converter's first line comes after the source was hashed: swap the weights then, and put them back.
      if (swapped || !/"stage":"convert","message":"(?!hashed)/.test(chunk.toString())) return;
      swapped = true;
      void (async () => {
        // Atomic both ways (a link keeps the original; renames replace): the file is never missing.
        await link(weights, `${weights}.orig`);
        const other = await readFile(weights);
        other[other.length - 1] = (other[other.length - 1] ?? 0) ^ 0xff;
        await writeFile(`${weights}.other`, other);
        await rename(`${weights}.other`, weights);
        await sleep(300);
        await rename(`${weights}.orig`, weights);
      })();
    });
    const run = await child;
    expect(swapped, run.all).toBe(true);
    expect(run.exitCode, run.all).toBe(2);
    expect(errorLines(run)).toEqual([`error: ${weights}: changed while it was being converted: the output would not be what its cache key says — run again once the source folder stays as it is (nothing was kept)`]);
    expect((await listTree(join(work, "out")).catch(() => [])).filter((f) => f.endsWith(".gguf"))).toEqual([]);
    const again = await cli(["run", recipe]);
    expect(again.exitCode, again.all).toBe(0);
    expect(await sha256File(join(work, "out", "Tiny-F32.gguf"))).toBe(await sha256File(join(clean.out, "Tiny-F32.gguf")));
  });

  it("should remake a quant whose byte was flipped with its mtime kept, so publishing it works again", async () => {
    const { out, recipe } = await cleanCopy("trust-flip");
    await cli(["run", recipe, "--no-publish"]);
    const file = join(out, "Tiny-Q8_0.gguf");
    const { atime, mtime, size } = await stat(file);
    const handle = await open(file, "r+");
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, size - 100);
    await handle.write(Buffer.from([(byte[0] ?? 0) ^ 0x55]), 0, 1, size - 100);
    await handle.close();
    await utimes(file, atime, mtime);
    const run = await cli(["run", recipe, "--no-publish", "--json"]);
    expect(run.exitCode, run.all).toBe(0);
    expect(jsonEvents(run.stdout).find((e) => e.type === "done" && e.stage === "quantize:Q8_0")).toMatchObject({ cached: false });
    expect(await sha256File(file)).toBe(await sha256File(join(clean.out, "Tiny-Q8_0.gguf")));
    const dry = await cli(["publish", recipe, "--dry-run"], { env: hubEnv() });
    expect(dry.exitCode, dry.all).toBe(0);
  });

  it("should never publish another recipe's run from the same folder", async () => {
    const work = await tempDir("trust-other-recipe");
    const beta = await writeRecipe(work, recipeOf({ name: "Beta", publish: { hf: { repo: "test-user/Beta-GGUF" } } }), "b.json");
    const alpha = await writeRecipe(work, recipeOf({ name: "Alpha", publish: { hf: { repo: "test-user/Alpha-GGUF" } } }), "a.json");
    expect((await cli(["run", beta, "--no-publish"])).exitCode).toBe(0);
    const before = hub.writeRequests().length;
    const published = await cli(["publish", alpha], { env: hubEnv() });
    expect(published.exitCode, published.all).toBe(2);
    expect(errorLines(published)).toEqual([`error: ${join(work, "out", "report.json")}: was made by another recipe (${beta}), not ${alpha} — publish it with the recipe that made it, or run \`pipeline run ${alpha}\` first`]);
    expect(hub.writeRequests().length).toBe(before);
  });
});

describe("trust: a publish deletes nothing it was not asked to", () => {
  it("should refuse a publish.hf.files that matches nothing, and name what a narrower selection would delete", async () => {
    const wide = await cleanCopy("trust-glob", recipeOf({ publish: { hf: { repo: "test-user/tiny-glob" } } }));
    expect((await cli(["run", wide.recipe], { env: hubEnv() })).exitCode).toBe(0);
    const none = await writeRecipe(wide.work, recipeOf({ publish: { hf: { repo: "test-user/tiny-glob", files: ["*Q5_K_M*"] } } }), "recipe.json");
    const refused = await cli(["publish", none, "--dry-run"], { env: hubEnv() });
    expect(refused.exitCode, refused.all).toBe(2);
    expect(errorLines(refused)).toEqual(['error: publish.hf.files ("*Q5_K_M*") matches none of the run\'s files (Tiny-F32.gguf, Tiny-Q8_0.gguf) — fix the patterns: they are matched against the files\' names, e.g. "*Q4_K_M*"']);
    const narrow = await writeRecipe(wide.work, recipeOf({ publish: { hf: { repo: "test-user/tiny-glob", files: ["*Q8_0*"] } } }), "recipe.json");
    const dry = await cli(["publish", narrow, "--dry-run"], { env: hubEnv() });
    expect(dry.exitCode, dry.all).toBe(0);
    expect(dry.all).toContain("test-user/tiny-glob: would delete 1 file(s) an earlier publish of this recipe made that this one leaves out: Tiny-F32.gguf");
  });

  it("should name every file a publish deletes before it deletes it", async () => {
    const { work, recipe } = await cleanCopy("trust-delete", recipeOf({ publish: { hf: { repo: "test-user/tiny-delete" } } }));
    expect((await cli(["run", recipe], { env: hubEnv() })).exitCode).toBe(0);
    const { quants: _dropped, ...withoutQuants } = recipeOf({ publish: { hf: { repo: "test-user/tiny-delete" } } });
    const fewer = await writeRecipe(work, withoutQuants);
    const run = await cli(["run", fewer], { env: hubEnv() });
    expect(run.exitCode, run.all).toBe(0);
    expect(run.all).toContain("test-user/tiny-delete: deletes 1 file(s) an earlier publish of this recipe made that this one leaves out: Tiny-Q8_0.gguf");
  });
});

describe("trust: what a run shows is what the model is", () => {
  /** The tiny model with another chat template (in both places transformers reads one), run to an Ollama folder. */
  async function runWithTemplate(name: string, chatTemplate: string) {
    const work = await tempDir(`trust-template-${name}`);
    const model = await copyTiny(work);
    const config = JSON.parse(await readFile(join(model, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
    config.chat_template = chatTemplate;
    await writeFile(join(model, "tokenizer_config.json"), JSON.stringify(config));
    // transformers reads chat_template.jinja before tokenizer_config.json's: the fine-tune's template is the one file.
    await writeFile(join(model, "chat_template.jinja"), chatTemplate);
    const recipe = await writeRecipe(work, { name: "Tiny", source: { path: model }, convert: { outtype: "f32" }, validate: { smoke: "none" }, publish: { ollama: { name: `tiny-${name}` } } });
    const run = await cli(["run", recipe]);
    expect(run.exitCode, run.all).toBe(0);
    const modelfile = await readFile(join(work, "out", "ollama", "f32", "Modelfile"), "utf8");
    return { run, modelfile };
  }

  it("should carry what a fine-tune's generation prompt adds into the Ollama template (a library template matched on its start drops it)", async () => {
    // ChatML, with a line the fine-tune was trained to see after the assistant's header.
    const { run, modelfile } = await runWithTemplate("french", "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\nAlways answer in French.\\n' }}{% endif %}");
    expect(run.all).not.toMatch(/Ollama renders other prompts/);
    expect(modelfile).toMatch(/^TEMPLATE """[\s\S]*<\|im_start\|>[\s\S]*Always answer in French\.\n[\s\S]*"""$/m);
  });

  it("should say when the Ollama template renders other prompts than the model's own", async () => {
    // A template that upper-cases the messages: no Go template Ollama runs can.
    const { run } = await runWithTemplate("upper", "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] | upper + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}");
    expect(run.all).toMatch(/Tiny-F32\.gguf: Ollama renders other prompts than the model's own chat template for \[user\], \[system, user\], \[user, assistant, user\], \[system, user, assistant, user\] \(of 4 conversations compared\); first in \[user\] at character \d+: Ollama ".*", the model ".*WHAT IS 2 \+ 2\?.*" — give publish\.ollama\.template a Go template that renders them as the model's does/);
  });

  it("should fail a model llama.cpp cannot load even without the smoke test", async () => {
    const work = await tempDir("trust-unloadable");
    // A quant whose header claims a third layer: its structure matches the reference, llama.cpp finds no blk.2.
    const recipe = await writeRecipe(work, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, quants: [{ type: "Q8_0", overrideKv: ["llama.block_count=int:3"] }], validate: { smoke: "none" } });
    const run = await cli(["run", recipe]);
    expect(run.exitCode, run.all).toBe(1);
    expect(errorLines(run)).toEqual([expect.stringMatching(new RegExp(`^error: ${literal(join(work, "out", "report.json"))}: validation failed: Tiny-Q8_0\\.gguf: loads: llama\\.cpp cannot load it: .*tensor 'blk\\.2\\.[a-z_]+\\.weight' not found`))]);
    // A source whose config names more layers than its weights hold is refused before any work.
    const model = await copyTiny(work);
    const config = JSON.parse(await readFile(join(model, "config.json"), "utf8")) as { num_hidden_layers: number };
    const layers = config.num_hidden_layers;
    await writeFile(join(model, "config.json"), JSON.stringify({ ...config, num_hidden_layers: layers + 1 }));
    const source = await cli(["validate", await writeRecipe(work, { name: "Tiny", source: { path: model } }, "more.json")]);
    expect(source.exitCode, source.all).toBe(2);
    expect(errorLines(source)).toEqual([`error: ${join(model, "config.json")}: config.json says ${layers + 1} layers, but the weights hold ${layers} — fix num_hidden_layers in config.json (or restore the missing weights): llama.cpp could not load the converted file`]);
  });
});
