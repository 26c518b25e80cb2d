import { existsSync } from "node:fs";
import { readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { acquireLock, cacheRoot, sha256 } from "@gguf-pipeline/core";
import { fixturesDir, toolchain } from "./helpers.js";

export { cosine } from "@gguf-pipeline/core";

let tinyEmbed: Promise<string> | undefined;

/**
 * The tiny sentence-embedding model (BERT, mean pooling, normalised) made by make_tiny_bert.py. It is not committed:
 * the pinned converter knows a WordPiece vocabulary only by its hash, so the fixture carries BERT's real 30k-piece
 * vocabulary (from the pinned llama.cpp tree) and its embedding table is megabytes. It is generated once per generator
 * version into the cache, like the toolchain, and shared by every test file.
 */
export function tinyEmbedModel(): Promise<string> {
  tinyEmbed ??= (async () => {
    const key = sha256(await readFile(join(fixturesDir, "make_tiny_bert.py"), "utf8")).slice(0, 12);
    const dir = join(cacheRoot(), "fixtures", `tiny-bert-${key}`);
    const model = join(dir, "model");
    if (existsSync(join(model, "model.safetensors"))) return model;
    const lock = await acquireLock({ path: join(cacheRoot(), "locks", `fixture-tiny-bert-${key}`) });
    try {
      if (existsSync(join(model, "model.safetensors"))) return model;
      const staging = join(dir, `model.partial-${process.pid}`);
      await rm(staging, { recursive: true, force: true });
      await makeTinyBert({ out: staging });
      await rename(staging, model);
      return model;
    } finally {
      await lock.release();
    }
  })();
  return tinyEmbed;
}

const offline = { HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1", TOKENIZERS_PARALLELISM: "false" };

export interface ReferenceEmbedding {
  sentence: string;
  /** The tokenizer's ids, special tokens included. */
  ids: number[];
  /** Mean-pooled over the attention mask, L2-normalised. */
  embedding: number[];
}

/** transformers' embeddings and token ids (hf_embed.py), the reference for llama.cpp's. */
export async function hfReference(params: { modelDir: string; sentences: string[] }): Promise<ReferenceEmbedding[]> {
  const tc = await toolchain();
  const result = await execa(tc.python, [join(fixturesDir, "hf_embed.py"), params.modelDir, ...params.sentences], { env: offline });
  const rows = result.stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as ReferenceEmbedding);
  if (rows.length !== params.sentences.length) throw new Error(`hf_embed.py printed ${rows.length} embeddings for ${params.sentences.length} sentences:\n${result.stdout.slice(-2000)}`);
  return rows;
}

/** transformers' sentence embeddings (mean pooling, L2-normalised), one per sentence. */
export async function hfEmbed(params: { modelDir: string; sentences: string[] }): Promise<number[][]> {
  return (await hfReference(params)).map((row) => row.embedding);
}

const separator = "<#sep#>";

/**
 * llama.cpp's sentence embeddings with llama-embedding: the model's own pooling (mean, from the GGUF) and
 * Euclidean normalisation, all sentences in one run, printed as OpenAI-style JSON. Sentences go in verbatim
 * (`--no-escape`: llama.cpp's tools otherwise turn `\t`, `\n` and `\\` in a prompt into the characters).
 *
 * llama-embedding prints through llama.cpp's asynchronous logger, which the program never flushes before it exits,
 * so the tail of its output can be lost; a run whose JSON is incomplete is repeated (up to three runs).
 */
export async function llamaEmbed(params: { gguf: string; sentences: string[]; pooling?: "mean" | "cls" | "last" }): Promise<number[][]> {
  if (params.sentences.length === 0) throw new TypeError("llamaEmbed: no sentences");
  for (const sentence of params.sentences) {
    if (sentence.includes(separator) || sentence.includes("\n")) throw new TypeError(`llamaEmbed: sentence contains the separator or a newline: ${JSON.stringify(sentence)}`);
  }
  const tc = await toolchain();
  const args = ["-m", params.gguf, "-p", params.sentences.join(separator), "--embd-separator", separator, "--embd-output-format", "json", "--embd-normalize", "2", "--no-warmup", "--no-escape"];
  if (params.pooling) args.push("--pooling", params.pooling);
  let last = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await execa(tc.tools.embedding, args, { stdin: "ignore" });
    last = result.stdout;
    const parsed = parseEmbeddingJson(result.stdout);
    if (parsed?.length === params.sentences.length) return parsed;
  }
  throw new Error(`llama-embedding printed no complete JSON for ${params.sentences.length} sentences in 3 runs; last stdout ends:\n${last.slice(-2000)}`);
}

/** The `--embd-output-format json` document on llama-embedding's stdout, or undefined when it is cut short. */
function parseEmbeddingJson(stdout: string): number[][] | undefined {
  const start = stdout.indexOf("{");
  if (start < 0) return undefined;
  try {
    const doc = JSON.parse(stdout.slice(start)) as { data?: { index: number; embedding: number[] }[] };
    return doc.data?.sort((a, b) => a.index - b.index).map((row) => row.embedding);
  } catch {
    return undefined;
  }
}

/** The token ids llama.cpp gives a text (with the model's special tokens, the text verbatim), from llama-tokenize. */
export async function llamaTokenIds(params: { gguf: string; text: string }): Promise<number[]> {
  const tc = await toolchain();
  const result = await execa(tc.tools.tokenize, ["-m", params.gguf, "-p", params.text, "--ids", "--no-escape", "--log-disable"], { stdin: "ignore" });
  return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "[]") as number[];
}

/** Runs the tiny BERT generator into a new folder (the vocabulary comes from the toolchain's llama.cpp tree). */
export async function makeTinyBert(params: { out: string; hidden?: number; layers?: number; steps?: number; env?: Record<string, string> }): Promise<string> {
  const tc = await toolchain();
  const extra = (["hidden", "layers", "steps"] as const).flatMap((key) => (params[key] ? [`--${key}`, String(params[key])] : []));
  await execa(tc.python, [join(fixturesDir, "make_tiny_bert.py"), params.out, "--llama-cpp", tc.llamaCppDir, ...extra], { env: { ...offline, ...params.env } });
  return params.out;
}

/** The pinned convert_hf_to_gguf.py on a model folder, directly (no pipeline, no cache). */
export async function convertHf(params: { modelDir: string; out: string; outtype: "f32" | "f16" | "bf16" | "q8_0" }): Promise<string> {
  const tc = await toolchain();
  await execa(tc.python, [tc.scripts.convertHf, params.modelDir, "--outfile", params.out, "--outtype", params.outtype], { env: offline });
  return params.out;
}

/** llama-quantize, directly. */
export async function quantizeGguf(params: { input: string; out: string; type: string }): Promise<string> {
  const tc = await toolchain();
  await execa(tc.tools.quantize, [params.input, params.out, params.type], { stdin: "ignore" });
  return params.out;
}
