import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { cp, mkdir, open, readdir, readFile, rename, rm, stat, statfs, symlink, truncate, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunReport } from "@gguf-pipeline/core";
import { formatShortfall, readGguf } from "@gguf-pipeline/core";
import { kldBaseBytes } from "@gguf-pipeline/quantize";
import { DEFAULT_WRITE_TOKEN, startHub, type HubServer } from "@gguf-pipeline/test-hub";
import { cli, cliBin, copyTiny, jsonEvents, listTree, makeLoraAdapter, repoRoot, tempDir, tinyModel, writeRecipe } from "../helpers.js";
import { findProcess, ggufHashes, interruptRun, leftovers, literal, mountTmpfs, sha256File, stderrLines, unmount, type Interrupted } from "../fault-helpers.js";

/**
 * What a user hits when something is wrong or goes wrong (issue 14, "Faults"): bad inputs, interrupted and killed runs
 * at every step, two runs on one folder, a full disk, damaged GGUFs. Each case asserts the exact line the user sees,
 * the exit code, and what is left on disk. Real tools on the tiny model; the runs that make models are shared.
 */

const interrupted = "interrupted: nothing was left under a final name; run it again to finish";

/**
 * The recipe every interrupted run makes: every step of a run on the tiny model (publish added where it is tested).
 * The shipped texts are ~54k and ~22k tokens: 16 chunks of 64 are plenty for a 125k-parameter model.
 */
function ladderRecipe(lora: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, adapters: [{ path: lora }], quants: ["Q8_0", "Q4_K_M"], imatrix: { ctx: 64, chunks: 16 }, evaluate: { ctx: 64, chunks: 16 }, validate: { smoke: "none" }, ...extra };
}

// Shared by every part: a PEFT adapter of the tiny model, and one clean, uninterrupted run of the whole recipe.
let shared: { work: string; lora: string; cleanOut: string; clean: Record<string, string>; kldBase: { name: string; sha256: string; bytes: number } };

beforeAll(async () => {
  const work = await tempDir("faults");
  const lora = await makeLoraAdapter({ base: tinyModel, out: join(work, "lora") });
  const cleanDir = join(work, "clean");
  const run = await cli(["run", await writeRecipe(cleanDir, ladderRecipe(lora)), "--json"]);
  expect(run.exitCode, run.all).toBe(0);
  const cleanOut = join(cleanDir, "out");
  const clean = await ggufHashes(cleanOut);
  expect(Object.keys(clean)).toEqual(["Tiny-F32.gguf", "Tiny-Q4_K_M.gguf", "Tiny-Q8_0.gguf", "Tiny-base-F32.gguf", "Tiny-lora-LoRA-F32.gguf", "Tiny.imatrix.gguf"]);
  const base = (await readdir(join(cleanOut, ".pipeline"))).find((f) => /^kld-base-[0-9a-f]+\.bin$/.test(f)) ?? "";
  const basePath = join(cleanOut, ".pipeline", base);
  shared = { work, lora, cleanOut, clean, kldBase: { name: base, sha256: await sha256File(basePath), bytes: (await stat(basePath)).size } };
}, 120_000);

/** A copy of the clean run's output folder (timestamps kept: everything in it is a cache hit). */
async function cleanCopy(dir: string): Promise<string> {
  const out = join(dir, "out");
  await cp(shared.cleanOut, out, { recursive: true, preserveTimestamps: true });
  return out;
}

describe("faults: bad input — one line, the exit code, the output folder as it was", () => {
  interface Case {
    /** Damages a fresh copy of the tiny model (`model`) or writes files beside it; returns the CLI arguments. */
    setup: (c: { work: string; model: string; recipe: (r: unknown, name?: string) => Promise<string> }) => Promise<string[][]>;
    exit: 1 | 2;
    line: (c: { work: string; model: string }) => RegExp;
    /** Lines after the first that the user also sees today (each is a fault to fix; see the case's comment). */
    extraLines?: number;
  }

  async function expectRejected(c: Case): Promise<void> {
    const work = await tempDir("fault-bad");
    const model = await copyTiny(work);
    const outDir = join(work, "out");
    await writeRecipe(outDir, "earlier result\n", "keep.txt");
    const commands = await c.setup({ work, model, recipe: (r, name) => writeRecipe(work, r, name) });
    const before = { out: await listTree(outDir), model: await listTree(model) };
    for (const args of commands) {
      const result = await cli(args, { cwd: work });
      expect(result.exitCode, `${args.join(" ")}\n${result.all}`).toBe(c.exit);
      const lines = stderrLines(result);
      expect(lines, result.stderr).toHaveLength(1 + (c.extraLines ?? 0));
      expect(lines[0]).toMatch(c.line({ work, model }));
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(await listTree(outDir)).toEqual(before.out);
      expect(await listTree(model)).toEqual(before.model);
      expect(await readFile(join(outDir, "keep.txt"), "utf8")).toBe("earlier result\n");
    }
  }

  const both = (file: string) => [["validate", file], ["run", file]];
  /** `<work>/recipe.json:N`, N the line of the recipe that holds `needle`: where the error points. */
  const at = (work: string, needle: string) => `${literal(work)}/recipe\\.json:${readFileSync(join(work, "recipe.json"), "utf8").split("\n").findIndex((l) => l.includes(needle)) + 1}`;
  const withSource = (extra: Record<string, unknown> = {}) => ({ name: "Tiny", source: { path: "model" }, ...extra });

  const cases: Record<string, Case> = {
    // Sources
    "a source without tokenizer files": {
      setup: async ({ model, recipe }) => {
        await rm(join(model, "tokenizer.model"));
        return both(await recipe(withSource()));
      },
      exit: 2,
      line: ({ model }) => new RegExp(`^error: ${literal(model)}: no tokenizer\\.json or tokenizer\\.model in the source folder: the converter needs the model's vocabulary — save the tokenizer beside the weights with tokenizer\\.save_pretrained\\(dir\\), or copy its files from the base model$`),
    },
    "a byte-level BPE vocabulary without its merges": {
      setup: async ({ model, recipe }) => {
        await rm(join(model, "tokenizer.model"));
        await writeFile(join(model, "vocab.json"), "{}");
        return both(await recipe(withSource()));
      },
      exit: 2,
      line: ({ model }) => new RegExp(`^error: ${literal(model)}/merges\\.txt: vocab\\.json has no merges\\.txt beside it: the converter cannot read the tokenizer — save the tokenizer beside the weights with tokenizer\\.save_pretrained\\(dir\\), or copy its files from the base model$`),
    },
    "an empty tokenizer.model": {
      setup: async ({ model, recipe }) => {
        await writeFile(join(model, "tokenizer.model"), "");
        return both(await recipe(withSource()));
      },
      exit: 2,
      line: ({ model }) => new RegExp(`^error: ${literal(model)}/tokenizer\\.model: tokenizer\\.model is empty: the converter cannot read the vocabulary — save the tokenizer beside the weights`),
    },
    "a source path that is a file": {
      setup: async ({ recipe }) => both(await recipe(withSource({ source: { path: "model/config.json" } }))),
      exit: 2,
      line: ({ model }) => new RegExp(`^error: ${literal(model)}/config\\.json: source\\.path is a file, not a model folder — set source\\.path in .*recipe\\.json to the folder that holds config\\.json and the \\*\\.safetensors files$`),
    },
    "a source without config.json": {
      setup: async ({ model, recipe }) => {
        await rm(join(model, "config.json"));
        return both(await recipe(withSource()));
      },
      exit: 2,
      line: ({ model }) => new RegExp(`^error: ${literal(model)}/config\\.json: no config\\.json in the source folder — save the model with save_pretrained\\(\\), which writes config\\.json beside the weights$`),
    },
    "a config.json that is not JSON": {
      setup: async ({ model, recipe }) => {
        await writeFile(join(model, "config.json"), "{\n  architectures: [LlamaForCausalLM]\n");
        return both(await recipe(withSource()));
      },
      exit: 2,
      line: ({ model }) => new RegExp(`^error: ${literal(model)}/config\\.json: config\\.json is not valid JSON \\(.+\\) — restore config\\.json from the original model$`),
    },
    "a config.json without architectures": {
      setup: async ({ model, recipe }) => {
        await writeFile(join(model, "config.json"), JSON.stringify({ model_type: "llama" }));
        return both(await recipe(withSource()));
      },
      exit: 2,
      line: ({ model }) => new RegExp(`^error: ${literal(model)}/config\\.json: config\\.json has no "architectures" entry — add the model class, e\\.g\\. "architectures": \\["LlamaForCausalLM"\\]$`),
    },
    "an architecture one letter off": {
      setup: async ({ model, recipe }) => {
        const config = JSON.parse(await readFile(join(model, "config.json"), "utf8")) as Record<string, unknown>;
        await writeFile(join(model, "config.json"), JSON.stringify({ ...config, architectures: ["LLamaForCausalLM"] }));
        return both(await recipe(withSource()));
      },
      exit: 2,
      line: ({ model }) => new RegExp(`^error: ${literal(model)}/config\\.json: architecture LLamaForCausalLM is not supported by the pinned llama\\.cpp converter — did you mean LlamaForCausalLM\\? \\(\`pipeline doctor\` lists what the converter supports\\)$`),
    },
    "a shard index naming a missing shard": {
      setup: async ({ model, recipe }) => {
        await rename(join(model, "model.safetensors"), join(model, "model-00001-of-00002.safetensors"));
        await writeFile(join(model, "model.safetensors.index.json"), JSON.stringify({ weight_map: { a: "model-00001-of-00002.safetensors", b: "model-00002-of-00002.safetensors" } }));
        return both(await recipe(withSource()));
      },
      exit: 2,
      line: ({ model }) => new RegExp(`^error: ${literal(model)}/model-00002-of-00002\\.safetensors: shard listed in model\\.safetensors\\.index\\.json is missing \\(1 of 2 missing\\) — download every shard of the model$`),
    },
    "a shard index that is not JSON (its text has a newline)": {
      setup: async ({ model, recipe }) => {
        await writeFile(join(model, "model.safetensors.index.json"), "nope\n");
        return both(await recipe(withSource()));
      },
      exit: 2,
      line: ({ model }) => new RegExp(`^error: ${literal(model)}/model\\.safetensors\\.index\\.json: shard index is unreadable \\(Unexpected token 'o', "nope " is not valid JSON\\) — restore the index from the original model$`),
    },
    "a safetensors file of 3 bytes": {
      setup: async ({ model, recipe }) => {
        await writeFile(join(model, "model.safetensors"), "abc");
        return both(await recipe(withSource()));
      },
      exit: 2,
      line: ({ model }) => new RegExp(`^error: ${literal(model)}/model\\.safetensors: safetensors file is truncated \\(3 bytes, not even a header length\\) — re-download or re-save this file; it is corrupt or incomplete$`),
    },
    "a PyTorch checkpoint without safetensors": {
      setup: async ({ model, recipe }) => {
        await rename(join(model, "model.safetensors"), join(model, "pytorch_model.bin"));
        return both(await recipe(withSource()));
      },
      exit: 2,
      line: ({ model }) => new RegExp(`^error: ${literal(model)}: no \\*\\.safetensors files in the source folder — re-save the checkpoint as safetensors: model\\.save_pretrained\\(dir, safe_serialization=True\\)$`),
    },
    "a Hub snapshot copied without its blobs (dangling links)": {
      setup: async ({ model, recipe }) => {
        await rm(join(model, "model.safetensors"));
        await symlink("../../blobs/9f2c1d", join(model, "model.safetensors"));
        return both(await recipe(withSource()));
      },
      exit: 2,
      line: ({ model }) => new RegExp(`^error: ${literal(model)}/model\\.safetensors: links to \\.\\./\\.\\./blobs/9f2c1d, which does not exist — copy the model's files rather than its links \\(cp -L\\), or download it again$`),
    },
    // Adapters (made from the shared PEFT adapter)
    "an adapter folder that does not exist": {
      setup: async ({ recipe }) => both(await recipe(withSource({ adapters: [{ path: "no-such-lora" }] }))),
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${literal(work)}/no-such-lora: adapter folder does not exist — point adapters\\[\\]\\.path at a PEFT adapter folder \\(adapter_config\\.json \\+ adapter_model\\.safetensors\\)$`),
    },
    "an adapter without adapter_config.json": {
      setup: async ({ work, recipe }) => {
        await cp(shared.lora, join(work, "lora"), { recursive: true });
        await rm(join(work, "lora", "adapter_config.json"));
        return both(await recipe(withSource({ adapters: [{ path: "lora" }] })));
      },
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${literal(work)}/lora/adapter_config\\.json: no adapter_config\\.json in the adapter folder — save the adapter with PeftModel\\.save_pretrained\\(\\)$`),
    },
    "an adapter_config.json without r": {
      setup: async ({ work, recipe }) => {
        await cp(shared.lora, join(work, "lora"), { recursive: true });
        const { r: _r, ...config } = JSON.parse(await readFile(join(work, "lora", "adapter_config.json"), "utf8")) as Record<string, unknown>;
        await writeFile(join(work, "lora", "adapter_config.json"), JSON.stringify(config));
        return both(await recipe(withSource({ adapters: [{ path: "lora" }] })));
      },
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${literal(work)}/lora/adapter_config\\.json: adapter_config\\.json has no usable r and lora_alpha \\(r=undefined, lora_alpha=8\\) — save the adapter with PeftModel\\.save_pretrained\\(\\), which writes both$`),
    },
    "an adapter that adds tokens": {
      setup: async ({ work, recipe }) => {
        await cp(shared.lora, join(work, "lora"), { recursive: true });
        await writeFile(join(work, "lora", "added_tokens.json"), JSON.stringify({ "<tool>": 384 }));
        return both(await recipe(withSource({ adapters: [{ path: "lora" }] })));
      },
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${literal(work)}/lora/added_tokens\\.json: the adapter adds tokens to the vocabulary; llama\\.cpp adapters cannot change the vocabulary — merge it in PEFT with the resized embeddings and convert the merged model$`),
    },
    "an adapter saved as a .bin": {
      setup: async ({ work, recipe }) => {
        await cp(shared.lora, join(work, "lora"), { recursive: true });
        await rename(join(work, "lora", "adapter_model.safetensors"), join(work, "lora", "adapter_model.bin"));
        return both(await recipe(withSource({ adapters: [{ path: "lora" }] })));
      },
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${literal(work)}/lora/adapter_model\\.safetensors: no adapter_model\\.safetensors — re-save the adapter with safe_serialization=True$`),
    },
    "two adapters with one name": {
      setup: async ({ work, recipe }) => {
        await cp(shared.lora, join(work, "lora"), { recursive: true });
        return both(await recipe(withSource({ adapters: [{ path: "lora" }, { path: "lora", scale: 0.5 }] })));
      },
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${literal(work)}/lora: two adapters are named "lora" — give one of them a "name" in .*recipe\\.json$`),
    },
    "an adapter_config.json that is not JSON": {
      setup: async ({ work, recipe }) => {
        await cp(shared.lora, join(work, "lora"), { recursive: true });
        await writeFile(join(work, "lora", "adapter_config.json"), "nope\n");
        return both(await recipe(withSource({ adapters: [{ path: "lora" }] })));
      },
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${literal(work)}/lora/adapter_config\\.json: not valid JSON \\(Unexpected token 'o', "nope " is not valid JSON\\) — restore the file from the adapter or its base model$`),
    },
    // Recipes
    "a recipe that does not exist": {
      setup: async () => both("no-recipe.json"),
      exit: 2,
      line: () => /^error: no-recipe\.json: cannot read the recipe — pass the path of a recipe\.json$/,
    },
    "a recipe cut short": {
      setup: async ({ recipe }) => both(await recipe('{\n  "source": { "path": "model" },\n')),
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${literal(work)}/recipe\\.json:3: not valid JSON \\(PropertyNameExpected\\) — fix the JSON syntax; see examples/tiny/recipe\\.json$`),
    },
    "an unknown quant type": {
      setup: async ({ recipe }) => both(await recipe(withSource({ quants: ["Q4_K_X"] }))),
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${at(work, '"Q4_K_X"')}: unknown quant type "Q4_K_X" — did you mean "Q4_K_[SM]"\\?$`),
    },
    "an IQ2 quant without an importance matrix": {
      setup: async ({ recipe }) => both(await recipe(withSource({ quants: ["IQ2_XXS"] }))),
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${at(work, '"IQ2_XXS"')}: IQ2_XXS needs an importance matrix and this recipe has none for it — add "imatrix": \\{\\} \\(uses the shipped calibration text\\) or "imatrix": \\{ "calibration": "your\\.txt" \\}, or choose a type like Q2_K or IQ4_XS$`),
    },
    "a split size with a unit it does not read": {
      setup: async ({ recipe }) => both(await recipe(withSource({ quants: ["Q4_K_M"], split: { maxSize: "48GB" } }))),
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${at(work, '"maxSize"')}: split size "48GB" cannot be read — write a whole number with M or G, e\\.g\\. "48G" or "500M"$`),
    },
    "an evaluation text that does not exist": {
      setup: async ({ recipe }) => both(await recipe(withSource({ quants: ["Q4_K_M"], evaluate: { text: "eval.txt" } }))),
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${at(work, '"text"')}: text file ${literal(work)}/eval\\.txt does not exist — point it at a UTF-8 text file, or leave it out to use the shipped text$`),
    },
    "a q8_0 intermediate quantized again without allowRequantize": {
      setup: async ({ recipe }) => both(await recipe(withSource({ convert: { outtype: "q8_0" }, quants: ["Q4_K_M"] }))),
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${at(work, '"Q4_K_M"')}: quantizing from a q8_0 intermediate re-quantizes already quantized weights — convert to f16/bf16/f32 instead, or set "allowRequantize": true to accept the quality loss$`),
    },
    "a quant listed twice": {
      setup: async ({ recipe }) => both(await recipe(withSource({ quants: ["Q4_K_M", "q4_k_m"] }))),
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${at(work, '"q4_k_m"')}: quant type Q4_K_M is listed twice \\(also at quants\\[0\\]\\) — list each type once$`),
    },
    "evaluate without quants": {
      setup: async ({ recipe }) => both(await recipe(withSource({ evaluate: { ctx: 64 } }))),
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${at(work, '"evaluate"')}: "evaluate" has no effect without "quants" — add "quants": \\["Q4_K_M", \\.\\.\\.\\] or remove it$`),
    },
    "a license file the recipe names that is not there": {
      setup: async ({ recipe }) => both(await recipe(withSource({ licensePolicy: { files: ["NOTICE.txt"] } }))),
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${literal(work)}/NOTICE\\.txt: license file not found — fix licensePolicy\\.files in .*recipe\\.json$`),
    },
    "an imatrix context below the minimum": {
      setup: async ({ recipe }) => both(await recipe(withSource({ quants: ["Q4_K_M"], imatrix: { ctx: 0 } }))),
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${at(work, '"ctx": 0')}: \\$\\.imatrix\\.ctx must be >= 8 — llama-imatrix -c: tokens per chunk\\.$`),
    },
    // Output folders
    "an output folder under a file": {
      setup: async ({ work, recipe }) => {
        await writeFile(join(work, "afile"), "x");
        return both(await recipe(withSource({ output: { dir: "afile/out" } })));
      },
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${literal(work)}/afile: output folder is a file — point output\\.dir in .*recipe\\.json at a folder$`),
    },
    "--out naming a file": {
      setup: async ({ work, recipe }) => {
        await writeFile(join(work, "taken"), "x");
        const file = await recipe(withSource());
        return [["run", file, "--out", join(work, "taken")], ["plan", file, "--out", join(work, "taken")]];
      },
      exit: 2,
      line: ({ work }) => new RegExp(`^error: ${literal(work)}/taken: output folder is a file — point --out at a folder$`),
    },
    // Usage
    "an unknown flag one letter off": {
      setup: async ({ recipe }) => [["run", await recipe(withSource()), "--jsn"]],
      exit: 2,
      line: () => /^error: unknown option --jsn — did you mean --json\? \(`pipeline --help` lists them\)$/,
    },
    "an unknown flag that extends a known one": {
      setup: async ({ recipe }) => [["run", await recipe(withSource()), "--outdir", "x"]],
      exit: 2,
      line: () => /^error: unknown option --outdir — did you mean --out\? \(`pipeline --help` lists them\)$/,
    },
    "a flag given a value it does not take": {
      setup: async ({ recipe }) => [["run", await recipe(withSource()), "--force=yes"]],
      exit: 2,
      line: () => /^error: option --force takes no value — run `pipeline --help`$/,
    },
    "--jobs 0": {
      setup: async ({ recipe }) => [["run", await recipe(withSource()), "--jobs", "0"]],
      exit: 2,
      line: () => /^error: --jobs must be a positive integer, not "0" — run `pipeline --help`$/,
    },
    "an unknown command": {
      setup: async ({ recipe }) => [["runn", await recipe(withSource())]],
      exit: 2,
      line: () => /^error: unknown command "runn" — run `pipeline --help`$/,
    },
  };

  for (const [name, c] of Object.entries(cases)) {
    it.concurrent(`should refuse ${name}`, () => expectRejected(c));
  }

  it("should refuse tensorTypes naming a ggml type that does not exist, before any work (exit 2)", async () => {
    // llama-quantize refused "q9_0" only when the rung ran, after the conversion; the recipe check now knows the pinned
    // ggml's types.
    const work = await tempDir("fault-tensor-type");
    const file = await writeRecipe(work, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, quants: [{ type: "Q4_K_M", tensorTypes: ["attn_v=q9_0"] }], validate: { smoke: "none" } });
    for (const command of ["validate", "run"]) {
      const result = await cli([command, file]);
      expect(result.exitCode, result.all).toBe(2);
      expect(stderrLines(result)).toEqual([expect.stringMatching(/^error: .*recipe\.json:\d+: unknown tensor type "q9_0" — did you mean "q8_0"\?$/)]);
    }
    expect(await listTree(join(work, "out"))).toEqual(["<missing>"]);
  });

  it("should refuse an output folder inside the source folder (its files would become the source's, and every run would convert again)", async () => {
    const work = await tempDir("fault-out-in-source");
    const model = await copyTiny(work);
    const file = await writeRecipe(work, { name: "Tiny", source: { path: "model" }, output: { dir: "model/out" } });
    const before = await listTree(model);
    for (const command of ["validate", "run"]) {
      const result = await cli([command, file]);
      expect(result.exitCode, result.all).toBe(2);
      expect(result.stderr.trim()).toMatch(new RegExp(`^error: ${literal(model)}/out: the output folder is inside the source model folder — point output\\.dir in .*recipe\\.json somewhere else$`));
    }
    expect(await listTree(model)).toEqual(before);
  });
});

describe("faults: texts too short for the context", () => {
  it("should say how much calibration text llama-imatrix needs, exit 2, and write nothing", async () => {
    const work = await tempDir("fault-short-imatrix");
    const out = await cleanCopy(work);
    await writeFile(join(work, "short.txt"), "Hello there, this is a short text.\n");
    const file = await writeRecipe(work, ladderRecipe(shared.lora, { imatrix: { ctx: 64, chunks: 16, calibration: "short.txt" } }));
    const before = await listTree(out);
    const result = await cli(["run", file, "--json"]);
    expect(result.exitCode, result.all).toBe(2);
    expect(stderrLines(result)).toEqual([expect.stringMatching(new RegExp(`^error: ${literal(work)}/short\\.txt: \\d+ tokens for this model; llama-imatrix at ctx 64 needs at least 128 — use a longer text, or set imatrix\\.ctx to \\d+ or less$`))]);
    expect(await listTree(out)).toEqual(before);
  });

  it("should say how much evaluation text llama-perplexity needs, exit 2, and leave no KL-divergence base (and keep the last one)", async () => {
    const work = await tempDir("fault-short-eval");
    const out = await cleanCopy(work);
    await writeFile(join(work, "short.txt"), "Hello there, this is a short text.\n");
    const file = await writeRecipe(work, ladderRecipe(shared.lora, { evaluate: { ctx: 64, chunks: 16, text: "short.txt" } }));
    const before = await listTree(out);
    const result = await cli(["run", file, "--json"]);
    expect(result.exitCode, result.all).toBe(2);
    expect(stderrLines(result)).toEqual([expect.stringMatching(new RegExp(`^error: ${literal(work)}/short\\.txt: \\d+ tokens for this model; llama-perplexity at ctx 64 needs at least 128 — use a longer text, or set evaluate\\.ctx to \\d+ or less$`))]);
    // The earlier text's base stays: a refused text costs nothing that must be measured again.
    expect(await listTree(out)).toEqual(before);
    expect(before).toContain(join(".pipeline", shared.kldBase.name));
  });
});

/** The lines a run prints for the files a killed run left (its first lines, before any step). */
function removalNotes(left: string[], pid: number): string[] {
  return left.map((path) => `note: removed ${path}, left by a run that was killed (pid ${pid})`);
}

/**
 * Every step of a run, the file whose appearance shows its tool is writing, and what else a kill then leaves: the
 * converter reads the source through a folder of links whose card carries the license verdict (shadow-source.ts),
 * kept in the state folder under the run's pid so that the next run removes it (it was in /tmp, for good).
 */
const steps: { stage: string | RegExp; name: string; writing: RegExp; alsoLeaves?: RegExp[] }[] = [
  { name: "convert", stage: "convert", writing: /^\.Tiny-base-F32\.gguf\.partial-\d+$/, alsoLeaves: [/^\.pipeline\/source-[0-9a-f]{8}\.\d+\.tmp$/] },
  { name: "adapter conversion", stage: "adapter:lora", writing: /^\.Tiny-lora-LoRA-F32\.gguf\.partial-\d+/ },
  { name: "merge", stage: "merge", writing: /^\.Tiny-F32\.gguf\.partial-\d+/ },
  { name: "imatrix", stage: "imatrix", writing: /^\.Tiny\.imatrix\.gguf\.partial-\d+$/ },
  { name: "quantize", stage: /^quantize:/, writing: /^\.Tiny-Q\w+\.gguf\.partial-\d+$/ },
  { name: "evaluate", stage: "evaluate", writing: /^kld-base-[0-9a-f]+(-\d+)?\.bin\.\d+\.tmp$/ },
];

/** Every GGUF under a final name is exactly the clean run's: nothing partial was ever renamed into place. */
async function expectOnlyWholeFiles(out: string): Promise<void> {
  const present = await ggufHashes(out).catch(() => ({}));
  for (const [name, sha] of Object.entries(present)) expect(sha, name).toBe(shared.clean[name]);
}

describe("faults: Ctrl-C (SIGINT to the run's process group) while each step's tool writes", () => {
  let work: string;
  let out: string;
  let file: string;

  beforeAll(async () => {
    work = await tempDir("fault-sigint");
    out = join(work, "out");
    file = await writeRecipe(work, ladderRecipe(shared.lora));
  });

  for (const step of steps) {
    it(`should stop during ${step.name} with exit 130, one line, and nothing partial anywhere`, async () => {
      const r = await interruptRun({ args: ["run", file], stage: step.stage, signal: "SIGINT", when: step.writing, outDir: out });
      expect(r.sent, r.stderr).toBe(true);
      expect(r.seen).toMatch(step.writing);
      // It landed inside the step (a ladder's first rung may finish before the poll sees the second's partial).
      if (step.name !== "quantize") expect(r.stageDoneBefore).toBe(false);
      expect(r.exitCode, r.stderr).toBe(130);
      expect(stderrLines(r)).toEqual([interrupted]);
      expect(jsonEvents(r.stdout).at(-1)).toEqual({ type: "error", exitCode: 130, message: "interrupted" });
      expect(await leftovers(out)).toEqual([]);
      expect(await listTree(out)).not.toContain("report.json");
      await expectOnlyWholeFiles(out);
    });
  }

  it("should finish on the next run with every GGUF and the imatrix byte-identical to an uninterrupted run", async () => {
    const again = await cli(["run", file, "--json"]);
    expect(again.exitCode, again.all).toBe(0);
    expect(stderrLines(again).filter((l) => l.startsWith("note: removed"))).toEqual([]);
    expect(await ggufHashes(out)).toEqual(shared.clean);
    // The KL-divergence base too: whole, as long as its own header says, and the same bytes.
    const base = join(out, ".pipeline", shared.kldBase.name);
    expect((await stat(base)).size).toBe(shared.kldBase.bytes);
    expect(await sha256File(base)).toBe(shared.kldBase.sha256);
    const head = await readFile(base);
    expect(kldBaseBytes({ ctx: head.readInt32LE(8), vocab: head.readInt32LE(12), chunks: head.readInt32LE(16) })).toBe(shared.kldBase.bytes);
  });

  describe("publish to the local Hub", () => {
    let hub: HubServer;
    const repo = "test-user/tiny-faults";
    const env = () => ({ HF_ENDPOINT: hub.url, HF_TOKEN: DEFAULT_WRITE_TOKEN });
    const commits = async () => (await readdir(join(hub.dir, "repos", "test-user", "tiny-faults", "commits")).catch(() => [])).length;

    beforeAll(async () => {
      hub = await startHub();
      await writeRecipe(work, ladderRecipe(shared.lora, { publish: { hf: { repo } } }));
    });
    afterAll(() => hub.stop());

    for (const signal of ["SIGINT", "SIGKILL"] as const) {
      it(`should commit nothing when ${signal} lands while the commit is being retried`, async () => {
        // The Hub answers the commit 503 with a Retry-After: the run waits there, its files uploaded and nothing committed.
        const fault = hub.inject({ match: { method: "POST", pathPattern: "/commit/" }, kind: "status", status: 503, retryAfter: 60, times: Number.POSITIVE_INFINITY });
        try {
          const r = await interruptRun({ args: ["run", file], stage: "publish-hf", signal, when: () => fault.hits > 0, outDir: out, env: env() });
          expect(r.sent, r.stderr).toBe(true);
          if (signal === "SIGINT") {
            expect(r.exitCode, r.stderr).toBe(130);
            expect(stderrLines(r)).toEqual([interrupted]);
          } else expect(r.signal).toBe("SIGKILL");
        } finally {
          fault.remove();
        }
        // The repo was created (its initial commit) and holds nothing of ours.
        expect(await commits()).toBe(1);
        expect((await fetch(`${hub.url}/${repo}/resolve/main/Tiny-Q8_0.gguf`)).status).toBe(404);
        expect(await leftovers(out)).toEqual([]);
        expect(await ggufHashes(out)).toEqual(shared.clean);
      });
    }

    it("should publish everything in one commit on the next run, the bytes the run made", async () => {
      const again = await cli(["run", join(work, "recipe.json"), "--json"], { env: env() });
      expect(again.exitCode, again.all).toBe(0);
      expect(await commits()).toBe(2);
      for (const [name, sha] of Object.entries(shared.clean)) {
        const served = await fetch(`${hub.url}/${repo}/resolve/main/${name}`);
        expect(served.status, name).toBe(200);
        expect(sha256Of(Buffer.from(await served.arrayBuffer())), name).toBe(sha);
      }
    });
  });
});

function sha256Of(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

describe("faults: SIGKILL of the run's process group (a power cut) while each step's tool writes", () => {
  let work: string;
  let out: string;
  let file: string;
  let last: { left: string[]; pid: number } | undefined;

  beforeAll(async () => {
    work = await tempDir("fault-sigkill");
    out = join(work, "out");
    file = await writeRecipe(work, ladderRecipe(shared.lora));
  });

  /** The run after a kill: its first lines name every file the killed run left, and none is left after it. */
  function expectCleaned(r: Pick<Interrupted, "stderr">): void {
    if (!last) return;
    const notes = stderrLines(r).filter((l) => l.startsWith("note: removed"));
    expect(notes.sort()).toEqual(removalNotes(last.left, last.pid).sort());
  }

  for (const step of steps) {
    it(`should leave only partial names when killed during ${step.name}, which the next run removes and names`, async () => {
      const r = await interruptRun({ args: ["run", file], stage: step.stage, signal: "SIGKILL", when: step.writing, outDir: out });
      expect(r.sent, r.stderr).toBe(true);
      expect(r.signal).toBe("SIGKILL");
      expectCleaned(r);
      const left = await leftovers(out);
      // What it was writing is still there under its partial name (with any pieces beside it), never a final one.
      expect(left.map((f) => f.replace(/^\.pipeline\//, ""))).toContain(r.seen);
      expect(left.every((f) => f.includes(`-${r.pid}`) || f.includes(`.${r.pid}.`))).toBe(true);
      for (const also of step.alsoLeaves ?? []) expect(left.filter((f) => also.test(f) && f.includes(`.${r.pid}.`)), left.join(", ")).toHaveLength(1);
      await expectOnlyWholeFiles(out);
      last = { left, pid: r.pid };
    });
  }

  it("should finish on the next run, after naming what it removed, with the same bytes as an uninterrupted run", async () => {
    const again = await cli(["run", file, "--json"]);
    expect(again.exitCode, again.all).toBe(0);
    expectCleaned(again);
    expect(await leftovers(out)).toEqual([]);
    expect(await ggufHashes(out)).toEqual(shared.clean);
    expect(await sha256File(join(out, ".pipeline", shared.kldBase.name))).toBe(shared.kldBase.sha256);
  });
});

describe("faults: two runs on one output folder", () => {
  it("should make the second wait (saying for whom), then find everything cached; an interrupted waiter leaves the first alone", async () => {
    const work = await tempDir("fault-two-runs");
    const out = join(work, "out");
    const file = await writeRecipe(work, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, quants: ["Q8_0"], validate: { smoke: "none" } });
    const first = execa("node", [cliBin, "run", file, "--json"], { reject: false, cwd: repoRoot, env: { CI: "1" } });
    let started!: () => void;
    const converting = new Promise<void>((resolve) => (started = resolve));
    first.stdout?.on("data", (chunk: Buffer) => {
      if (/"type":"start","stage":"convert"/.test(chunk.toString())) started();
    });
    await converting;
    const waitingLine = new RegExp(`^note: ${literal(out)} is in use by another run \\(pid ${first.pid} on ${literal(hostname())}\\): waiting for it to finish$`);
    const second = execa("node", [cliBin, "run", file, "--json"], { reject: false, cwd: repoRoot, env: { CI: "1" } });
    // A third waiter is interrupted while it waits: 130, and the first run goes on.
    const third = execa("node", [cliBin, "run", file, "--json"], { reject: false, cwd: repoRoot, env: { CI: "1" } });
    let thirdErr = "";
    let interruptedWaiter = false;
    third.stderr?.on("data", (chunk: Buffer) => {
      thirdErr += chunk.toString();
      // Once: a second Ctrl-C gives up at once (and may find the process already tearing down).
      if (!interruptedWaiter && /waiting for it to finish/.test(thirdErr)) {
        interruptedWaiter = true;
        third.kill("SIGINT");
      }
    });
    const [a, b, c] = await Promise.all([first, second, third]);
    expect(c.exitCode, c.stderr).toBe(130);
    expect(stderrLines(c)).toEqual([expect.stringMatching(waitingLine), interrupted]);
    expect(a.exitCode, a.all).toBe(0);
    expect(b.exitCode, b.all).toBe(0);
    expect(stderrLines(b)).toEqual([expect.stringMatching(waitingLine)]);
    const events = jsonEvents(b.stdout);
    expect(events.filter((e) => e.type === "cache-hit").map((e) => e.stage).sort()).toEqual(["convert", "quantize:Q8_0"]);
    expect(events.some((e) => e.type === "done" && e.cached === false && (e.stage === "convert" || String(e.stage).startsWith("quantize:")))).toBe(false);
    // The files are the first run's, whole.
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as RunReport;
    for (const artifact of report.artifacts.filter((x) => x.path.endsWith(".gguf"))) expect(await sha256File(join(out, artifact.path)), artifact.path).toBe(artifact.sha256);
    expect(await leftovers(out)).toEqual([]);
  });
});

describe("faults: a tool killed outright (the kernel's out-of-memory killer picks the largest process)", () => {
  it("should fail the stage with exit 1, say what a SIGKILL most often means, and leave nothing partial", async () => {
    const work = await tempDir("fault-oom");
    const file = await writeRecipe(work, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, validate: { smoke: "none" } });
    const run = cli(["run", file, "--json"]);
    let converter: number | undefined;
    for (let i = 0; i < 3000 && !converter && run.exitCode === null; i++) {
      converter = await findProcess((cmd) => cmd.includes("convert_hf_to_gguf.py") && cmd.includes(join(work, "out")));
      if (!converter) await sleep(10);
    }
    expect(converter).toBeDefined();
    process.kill(converter ?? 0, "SIGKILL");
    const result = await run;
    expect(result.exitCode, result.all).toBe(1);
    // Before any output (it is still importing torch) there is no line of its own to show, and no command line either.
    expect(stderrLines(result)[0]).toMatch(new RegExp(`^error: ${literal(tinyModel)}: convert_hf_to_gguf\\.py failed \\(killed by SIGKILL: out of memory\\?\\): (it printed nothing|[^/]+)$`));
    expect(await leftovers(join(work, "out"))).toEqual([]);
    expect((await listTree(join(work, "out"))).filter((f) => f.endsWith(".gguf"))).toEqual([]);
  });
});

describe("faults: a full disk (a small tmpfs)", () => {
  let mnt: string;
  let mounted: { ok: true } | { ok: false; reason: string };

  beforeAll(async () => {
    mnt = join(await tempDir("fault-disk"), "mnt");
    mounted = await mountTmpfs(mnt, "1m");
    if (mounted.ok) await execa("umount", [mnt]);
  });
  afterAll(async () => {
    if (mounted.ok) await unmount(mnt);
  });

  async function mountSized(size: string): Promise<void> {
    await execa("umount", [mnt], { reject: false });
    const again = await mountTmpfs(mnt, size);
    if (!again.ok) throw new Error(again.reason);
  }

  const tinyRecipe = (extra: Record<string, unknown> = {}) => ({ name: "Tiny", source: { path: tinyModel }, output: { dir: join(mnt, "out") }, convert: { outtype: "f32" }, validate: { smoke: "none" }, ...extra });

  it("should refuse to convert into a disk without room, in one line, exit 1, writing nothing", async (ctx) => {
    if (!mounted.ok) ctx.skip(`no tmpfs: ${mounted.reason}`);
    await mountSized("1m");
    const file = await writeRecipe(await tempDir("fault-disk-convert"), tinyRecipe());
    const result = await cli(["run", file, "--json"]);
    expect(result.exitCode, result.all).toBe(1);
    expect(stderrLines(result)).toEqual([expect.stringMatching(new RegExp(`^error: ${literal(mnt)}/out: not enough free disk space for converting Tiny: it needs about 1\\.5 MB, 1 MB free — free some space, or point --out at a disk with room$`))]);
    expect(await listTree(mnt)).toEqual([]);
  });

  it("should make the converter's own error the headline when the disk fills while it writes, and leave nothing partial", async (ctx) => {
    if (!mounted.ok) ctx.skip(`no tmpfs: ${mounted.reason}`);
    await mountSized("2m");
    const file = await writeRecipe(await tempDir("fault-disk-mid"), tinyRecipe());
    const run = cli(["run", file, "--json"]);
    // The space check passed once the converter runs; it then spends seconds importing torch before it writes.
    let converter: number | undefined;
    for (let i = 0; i < 3000 && !converter && run.exitCode === null; i++) {
      converter = await findProcess((cmd) => cmd.includes("convert_hf_to_gguf.py") && cmd.includes(mnt));
      if (!converter) await sleep(10);
    }
    expect(converter).toBeDefined();
    const { bavail, bsize } = await statfs(mnt);
    await writeFile(join(mnt, "filler"), Buffer.alloc(bavail * bsize - 150_000));
    const result = await run;
    expect(result.exitCode, result.all).toBe(1);
    expect(stderrLines(result)[0]).toMatch(
      new RegExp(`^error: ${literal(tinyModel)}: convert_hf_to_gguf\\.py failed \\(exit code 1\\): OSError: (\\d+ requested and \\d+ written \\(a short write: the disk is probably full\\)|\\[Errno 28\\] No space left on device)$`),
    );
    // The tool's last lines follow as context; the output folder has nothing in it.
    expect(stderrLines(result).slice(1).every((l) => l.startsWith("  | "))).toBe(true);
    expect(await listTree(join(mnt, "out"))).toEqual([]);
  });

  it("should count the rungs made at the same time (--jobs 2) together: each fits alone, both do not", async (ctx) => {
    if (!mounted.ok) ctx.skip(`no tmpfs: ${mounted.reason}`);
    await mountSized("1600k");
    const work = await tempDir("fault-disk-jobs");
    const converted = await cli(["run", await writeRecipe(work, tinyRecipe()), "--json"]);
    expect(converted.exitCode, converted.all).toBe(0);
    // Then room for either rung alone (Q8_0 ~134 KB, Q6_K ~104 KB by their nominal sizes; 143 and 110 KB made), not both.
    const { blocks, bfree, bsize } = await statfs(mnt);
    await execa("mount", ["-o", `remount,size=${Math.ceil(((blocks - bfree) * bsize + 190_000) / 4096) * 4}k`, mnt]);
    const file = await writeRecipe(work, tinyRecipe({ quants: ["Q8_0", "Q6_K"] }));
    const result = await cli(["run", file, "--json", "--jobs", "2"]);
    expect(result.exitCode, result.all).toBe(1);
    // Whichever rung checks second is refused before its tool starts, not by the disk filling under both.
    expect(stderrLines(result)[0]).toMatch(
      /^error: 1 quant\(s\) failed: (Q8_0|Q6_K) \(not enough free disk space for Tiny-(Q8_0|Q6_K)\.gguf: it needs about [\d.]+ KB, [\d.]+ KB free after what the file being written beside it still needs\) — /,
    );
    const made = (await listTree(join(mnt, "out"))).filter((f) => /^Tiny-Q/.test(f));
    expect(made).toHaveLength(1);
    expect(await leftovers(join(mnt, "out"))).toEqual([]);
  });

  it("should check the room for the KL-divergence base before llama-perplexity writes it (it would exit 0 with a short file)", async (ctx) => {
    if (!mounted.ok) ctx.skip(`no tmpfs: ${mounted.reason}`);
    // Room for the conversion's check (1.5 MB) but, once the model (504 KB) and its quant (143 KB) are in, not for the
    // base of 48 chunks of 64 tokens over a 384-token vocabulary (1.17 MB).
    await mountSized("1600k");
    const file = await writeRecipe(await tempDir("fault-disk-eval"), tinyRecipe({ quants: ["Q8_0"], evaluate: { ctx: 64, chunks: 48 } }));
    const result = await cli(["run", file, "--json"]);
    expect(result.exitCode, result.all).toBe(1);
    const need = formatShortfall(kldBaseBytes({ ctx: 64, vocab: 384, chunks: 48 }), 0)[0];
    expect(need).toBe("1.2 MB");
    // Measured in batches (evaluate.precision): the first batch's base is the first to be written, and its room is
    // checked before it is (the joined base's, before the join).
    expect(stderrLines(result)).toEqual([
      expect.stringMatching(new RegExp(`^error: ${literal(mnt)}/out/\\.pipeline: not enough free disk space for the KL-divergence base of Tiny-F32\\.gguf: it needs about [\\d.]+ [KM]B, [\\d.]+ [KM]B free — free some space, or point --out at a disk with room$`)),
    ]);
    expect((await listTree(join(mnt, "out"))).filter((f) => !f.startsWith(".pipeline/validation"))).toEqual([".pipeline", ".pipeline/state.json", "Tiny-F32.gguf", "Tiny-Q8_0.gguf"]);
    // With room, the next run measures only what is missing.
    await execa("mount", ["-o", "remount,size=4m", mnt]);
    const again = await cli(["run", file, "--json"]);
    expect(again.exitCode, again.all).toBe(0);
    expect(jsonEvents(again.stdout).filter((e) => e.type === "done" && e.cached === false).map((e) => e.stage)).toEqual(["evaluate", "evaluate:chart", "validate"]);
  });
});

describe("faults: damaged GGUFs", () => {
  let dir: string;
  let good: string;
  let kvCount: number;

  beforeAll(async () => {
    dir = await tempDir("fault-gguf");
    good = join(shared.cleanOut, "Tiny-Q8_0.gguf");
    kvCount = Object.keys((await readGguf({ file: good })).metadata).length;
  });

  async function cut(bytes: number): Promise<string> {
    const file = join(dir, `cut-${bytes}.gguf`);
    await cp(good, file);
    await truncate(file, bytes);
    return file;
  }

  async function check(file: string): Promise<{ line: string; stdout: string[] }> {
    const before = await listTree(dir);
    const result = await cli(["inspect", "--check", file]);
    expect(result.exitCode, result.all).toBe(1);
    expect(stderrLines(result), result.stderr).toHaveLength(1);
    expect(await listTree(dir)).toEqual(before);
    return { line: stderrLines(result)[0] ?? "", stdout: result.stdout.split("\n") };
  }

  it("should say an empty file is empty", async () => {
    const file = await cut(0);
    expect((await check(file)).line).toBe(`error: ${file}: magic: the file is empty`);
  });

  for (const bytes of [3, 24, 100, 1500]) {
    it(`should say a file cut at byte ${bytes} is truncated in the header there, and check nothing past it`, async () => {
      const file = await cut(bytes);
      const { line, stdout } = await check(file);
      if (bytes < 4) expect(line).toBe(`error: ${file}: magic: the file is truncated in the header at byte 0 (reading the magic; the file has ${bytes} bytes)`);
      else if (bytes === 24) expect(line).toBe(`error: ${file}: header: the file is truncated in the header at byte 24 (reading metadata key 1 of ${kvCount}; the file has 24 bytes)`);
      else {
        const at = Number(new RegExp(`^error: ${literal(file)}: header: the file is truncated in the header at byte (\\d+) \\(reading [^;]+; the file has ${bytes} bytes\\)$`).exec(line)?.[1]);
        // The value that starts there is what is cut: a key, a type, a short string of this header.
        expect(at).toBeLessThanOrEqual(bytes);
        expect(at).toBeGreaterThan(bytes - 64);
      }
      // Nothing invented: no check passes beyond the magic.
      expect(stdout.filter((l) => l.startsWith("ok"))).toEqual(bytes < 4 ? [] : [expect.stringMatching(/^ok\s+magic\s+starts with GGUF$/)]);
    });
  }

  it("should give one line, exit 2, for `inspect` of a cut file", async () => {
    const file = await cut(1500);
    const result = await cli(["inspect", file]);
    expect(result.exitCode, result.all).toBe(2);
    expect(stderrLines(result)).toEqual([expect.stringMatching(new RegExp(`^error: ${literal(file)}: not a readable GGUF file \\(the file is truncated in the header at byte \\d+ \\(reading [^;]+; the file has 1500 bytes\\)\\) — pass a complete \\.gguf file$`))]);
  });

  it("should refuse a file that is not there as a wrong argument (exit 2), in inspect and in inspect --check alike", async () => {
    const missing = join(dir, "not-there.gguf");
    for (const args of [["inspect", missing], ["inspect", "--check", missing]]) {
      const result = await cli(args);
      expect(result.exitCode, result.all).toBe(2);
      expect(stderrLines(result)).toHaveLength(1);
      expect(stderrLines(result)[0]).toMatch(new RegExp(`^error: ${literal(missing)}: no such file — pass a \\.gguf file$`));
    }
  });

  it("should refuse a folder, a safetensors file and a GGUF version 1 in one line each", async () => {
    const folder = join(dir, "a-folder.gguf");
    await mkdir(folder);
    expect((await check(folder)).line).toBe(`error: ${folder}: magic: a folder, not a GGUF file`);
    const inspected = await cli(["inspect", folder]);
    expect(inspected.exitCode).toBe(2);
    expect(stderrLines(inspected)).toEqual([`error: ${folder}: not a readable GGUF file (a folder, not a GGUF file) — pass a complete .gguf file`]);
    expect((await check(join(tinyModel, "model.safetensors"))).line).toMatch(new RegExp(`^error: ${literal(tinyModel)}/model\\.safetensors: magic: starts with ".*", not "GGUF": not a GGUF file$`));
    const v1 = join(dir, "v1.gguf");
    await cp(good, v1);
    const handle = await open(v1, "r+");
    await handle.write(Buffer.from([1, 0, 0, 0]), 0, 4, 4);
    await handle.close();
    expect((await check(v1)).line).toBe(`error: ${v1}: header: GGUF version 1 is not supported (llama.cpp reads 2 and 3)`);
  });
});
