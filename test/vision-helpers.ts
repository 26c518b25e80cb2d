import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { execa } from "execa";
import { cacheRoot } from "@gguf-pipeline/core";
import { fixturesDir, toolchain } from "./helpers.js";

export const visionFamilies = ["gemma3", "qwen2vl", "idefics3"] as const;
export type VisionFamily = (typeof visionFamilies)[number];

/** The picture the parity tests show (64×64 shapes; test/fixtures/images/make_shapes_image.py draws it). */
export const shapesImage = join(fixturesDir, "images", "shapes-64.png");

const offline = { HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1", TOKENIZERS_PARALLELISM: "false" };

/** A tiny vision-language model of a family, made once per generator and llama.cpp pin into the cache (`fixtures/`). */
export async function visionModel(family: VisionFamily): Promise<string> {
  const tc = await toolchain();
  const generator = await readFile(join(fixturesDir, "make_vlm_model.py"));
  const family2 = await readFile(join(fixturesDir, "make_family_model.py"));
  const key = createHash("sha256").update(generator).update(family2).update(tc.commit).update(family).digest("hex").slice(0, 12);
  const dir = join(cacheRoot(), "fixtures", `vlm-${family}-${key}`);
  if (existsSync(join(dir, "config.json"))) return dir;
  const partial = `${dir}.${process.pid}.tmp`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(join(dir, ".."), { recursive: true });
  await execa(tc.python, [join(fixturesDir, "make_vlm_model.py"), family, partial, "--llama-cpp", tc.llamaCppDir], { env: offline });
  await rename(partial, dir).catch(async () => rm(partial, { recursive: true, force: true }));
  return dir;
}

export interface VisionReference {
  /** The prompt the processor's chat template renders (with the image's tokens). */
  prompt: string;
  tokens: number[];
  /** Top-1 minus top-2 logit at each generated token. */
  margins: number[];
  /** The answer's text after each token (its first i+1 tokens decoded). */
  prefixes: string[];
  text: string;
}

/** transformers' greedy tokens for an image and a prompt (test/fixtures/hf_vlm_generate.py), float32. */
export async function hfVision(params: { modelDir: string; image: string; prompt: string; tokens: number }): Promise<VisionReference> {
  const tc = await toolchain();
  const out = await execa(tc.python, [join(fixturesDir, "hf_vlm_generate.py"), params.modelDir, params.image, params.prompt, String(params.tokens)], { env: offline });
  return JSON.parse(out.stdout.trim().split("\n").at(-1) ?? "{}") as VisionReference;
}

/** llama-mtmd-cli's greedy text for the model and its projector shown an image. */
export async function llamaVision(params: { model: string; projector?: string; image: string; prompt: string; tokens: number; hf?: string; env?: Record<string, string>; raw?: boolean }): Promise<string> {
  const tc = await toolchain();
  const source = params.hf ? ["-hf", params.hf] : ["-m", params.model, "--mmproj", params.projector ?? ""];
  // raw: the prompt is already rendered (with llama.cpp's image marker, <__media__>): a template that passes it through.
  const raw = params.raw ? ["--jinja", "--chat-template", "{{ messages[0]['content'] }}"] : ["--jinja"];
  const out = await execa(tc.tools.mtmdCli, [...source, ...raw, "--image", params.image, "-p", params.prompt, "-n", String(params.tokens), "--temp", "0", "-c", "4096", "--no-warmup", "-t", "2"], { env: params.env ?? {} });
  return out.stdout.replace(/^\n+/, "").replace(/\n+$/, "");
}

/**
 * transformers' rendered prompt as llama.cpp takes it: without the BOS (llama.cpp adds it) and with llama.cpp's image
 * marker where the processor expands the image: mtmd writes each family's own image tokens around the embeddings
 * (Gemma 3's <start_of_image>…<end_of_image>, Qwen2-VL's <|vision_start|>…<|vision_end|>, Idefics3's tiles), but not
 * the blank lines Gemma 3's processor puts around them.
 */
export function llamaPrompt(family: VisionFamily, prompt: string): string {
  const image: Record<VisionFamily, [string, string]> = { gemma3: ["<start_of_image>", "\n\n<__media__>\n\n"], qwen2vl: ["<|vision_start|><|image_pad|><|vision_end|>", "<__media__>"], idefics3: ["<image>", "<__media__>"] };
  const [from, to] = image[family];
  return prompt.replace(/^(<bos>|<\|begin_of_text\|>)/, "").replace(from, to);
}
