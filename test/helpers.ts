import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { inject } from "vitest";
import { ensureToolchain, type Toolchain } from "@gguf-pipeline/native";

export const repoRoot = fileURLToPath(new URL("..", import.meta.url));
export const tinyModel = join(repoRoot, "examples", "tiny", "model");
export const cliBin = join(repoRoot, "packages", "cli", "dist", "bin.js");
export const fixturesDir = join(repoRoot, "test", "fixtures");

let toolchainPromise: Promise<Toolchain> | undefined;

/** The real toolchain (built by the global setup; this only reads its markers). */
export function toolchain(): Promise<Toolchain> {
  toolchainPromise ??= (async () => {
    const run = ensureToolchain();
    for (;;) {
      const next = await run.next();
      if (next.done) return next.value;
    }
  })();
  return toolchainPromise;
}

/** A fresh folder for a test, under the run's root (removed when the run ends; see global-setup.ts). */
export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(inject("e2eTempRoot") ?? tmpdir(), `gguf-pipeline-${prefix}-`));
}

/** A private copy of the tiny model, for tests that damage it. */
export async function copyTiny(into?: string): Promise<string> {
  const dir = join(into ?? (await tempDir("model")), "model");
  await cp(tinyModel, dir, { recursive: true });
  return dir;
}

export async function writeRecipe(dir: string, recipe: unknown, name = "recipe.json"): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, name);
  await writeFile(file, typeof recipe === "string" ? recipe : `${JSON.stringify(recipe, null, 2)}\n`);
  return file;
}

/** Runs the real `pipeline` CLI as a user would; never rejects, so tests can look at failures. */
export function cli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): ResultPromise<{ reject: false; all: true; env: Record<string, string> }> {
  return execa("node", [cliBin, ...args], { reject: false, all: true, cwd: options.cwd ?? repoRoot, env: { CI: "1", ...options.env } }) as never;
}

/** Every event a `--json` run printed. */
export function jsonEvents(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Everything under a folder (relative paths, sorted), to prove a failed run left it as it was. */
export async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => undefined);
  return entries ? entries.map(String).sort() : ["<missing>"];
}

export interface Generation {
  prompt: string;
  promptIds: number[];
  text: string;
}

export interface ReferenceGeneration extends Generation {
  newIds: number[];
  /** peft_generate.py: the text up to the first greedy step whose two best logits are within the tie margin. */
  textUntilTie?: string;
  tokensUntilTie?: number;
}

/**
 * Greedy generation with llama.cpp's llama-simple (greedy sampler, stops at end-of-generation like transformers),
 * and the prompt's token ids from llama-tokenize. Both print with plain stdio, so nothing is lost at exit.
 */
export async function llamaGenerate(params: { gguf: string; prompt: string; tokens: number }): Promise<Generation> {
  const tc = await toolchain();
  const generated = await execa(tc.tools.simple, ["-m", params.gguf, "-n", String(params.tokens), params.prompt], { stdin: "ignore" });
  const tokenized = await execa(tc.tools.tokenize, ["-m", params.gguf, "-p", params.prompt, "--ids", "--log-disable"], { stdin: "ignore" });
  const promptIds = JSON.parse(tokenized.stdout.trim().split("\n").at(-1) ?? "[]") as number[];
  // llama-simple prints the prompt's pieces with special tokens (the BOS as "<s>"), then the continuation.
  return { prompt: params.prompt, promptIds, text: generated.stdout.replace(/^<s>/, "").trim() };
}

/** The same with transformers (the reference), through the project's Python env. */
export async function hfGenerate(params: { modelDir: string; prompts: string[]; tokens: number }): Promise<ReferenceGeneration[]> {
  const tc = await toolchain();
  const result = await execa(tc.python, [join(fixturesDir, "hf_generate.py"), params.modelDir, String(params.tokens), ...params.prompts], {
    env: { HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1", TOKENIZERS_PARALLELISM: "false" },
  });
  return parseGenerations(result.stdout);
}

/** Runs the fixture generator into a new folder. */
export async function makeTinyModel(params: { out: string; shards?: number; hidden?: number; layers?: number; steps?: number; vocab?: number }): Promise<string> {
  const tc = await toolchain();
  const extra = (["shards", "hidden", "layers", "steps", "vocab"] as const).flatMap((key) => (params[key] ? [`--${key}`, String(params[key])] : []));
  await execa(tc.python, [join(fixturesDir, "make_tiny_llama.py"), params.out, ...extra], {
    env: { HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1" },
  });
  return params.out;
}

/** A copy of a model folder with its model.safetensors re-sharded into about `shards` files and an index (bytes only). */
export async function reshardModel(params: { src: string; out: string; shards: number }): Promise<string> {
  const tc = await toolchain();
  await execa(tc.python, [join(fixturesDir, "reshard_safetensors.py"), params.src, params.out, "--shards", String(params.shards)]);
  return params.out;
}

/** Every F32 tensor of a safetensors file, by name (small test files only: reads the whole file). */
export async function readSafetensors(file: string): Promise<Record<string, { shape: number[]; values: Float32Array }>> {
  const bytes = await readFile(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8")) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out: Record<string, { shape: number[]; values: Float32Array }> = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === "__metadata__" || t.dtype !== "F32") continue;
    const data = bytes.subarray(8 + headerLength + t.data_offsets[0], 8 + headerLength + t.data_offsets[1]);
    out[name] = { shape: t.shape, values: new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
  }
  return out;
}

/** Runs the PEFT adapter generator for a base model folder. */
export async function makeLoraAdapter(params: { base: string; out: string; seed?: number; rank?: number; targets?: string; modulesToSave?: string; dora?: boolean; baseName?: string }): Promise<string> {
  const tc = await toolchain();
  const args = [join(fixturesDir, "make_lora_adapter.py"), params.base, params.out];
  if (params.seed !== undefined) args.push("--seed", String(params.seed));
  if (params.rank !== undefined) args.push("--rank", String(params.rank));
  if (params.targets) args.push("--targets", params.targets);
  if (params.modulesToSave) args.push("--modules-to-save", params.modulesToSave);
  if (params.dora) args.push("--dora");
  if (params.baseName) args.push("--base-name", params.baseName);
  await execa(tc.python, args, { env: { HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1" } });
  return params.out;
}

/** The reference for merged adapters: PEFT merge_and_unload of each adapter at its scale, then greedy generation. */
export async function peftGenerate(params: { base: string; adapters: { dir: string; scale: number }[]; prompts: string[]; tokens: number }): Promise<ReferenceGeneration[]> {
  const tc = await toolchain();
  const result = await execa(tc.python, [join(fixturesDir, "peft_generate.py"), params.base, String(params.tokens), ...params.adapters.map((a) => `${a.dir}:${a.scale}`), "--", ...params.prompts], {
    env: { HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1", TOKENIZERS_PARALLELISM: "false" },
  });
  return parseGenerations(result.stdout);
}

/** Greedy generation with llama-completion, which (unlike llama-simple) can apply GGUF adapters at run time. */
export async function llamaComplete(params: { gguf: string; prompt: string; tokens: number; lora?: { file: string; scale: number }[] }): Promise<string> {
  const tc = await toolchain();
  const lora = params.lora?.length ? ["--lora-scaled", params.lora.map((l) => `${l.file}:${l.scale}`).join(",")] : [];
  const result = await execa(tc.tools.completion, ["-m", params.gguf, "-p", params.prompt, "-n", String(params.tokens), "--temp", "0", "-no-cnv", "--no-warmup", "--simple-io", "-t", "1", "-s", "1", ...lora], { stdin: "ignore" });
  return result.stdout.trim();
}

/** The JSON lines hf_generate.py and peft_generate.py print. */
function parseGenerations(stdout: string): ReferenceGeneration[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => {
      const row = JSON.parse(l) as { prompt: string; prompt_ids: number[]; new_ids: number[]; text: string; text_until_tie?: string; tokens_until_tie?: number };
      const tie = row.text_until_tie !== undefined ? { textUntilTie: row.text_until_tie.trim(), tokensUntilTie: row.tokens_until_tie ?? 0 } : {};
      return { prompt: row.prompt, promptIds: row.prompt_ids, newIds: row.new_ids, text: row.text.trim(), ...tie };
    });
}
