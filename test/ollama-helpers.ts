import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, join } from "node:path";
import { execa } from "execa";
import type { RunReport, StageEvent } from "@gguf-pipeline/core";
import type { PublishInput } from "@gguf-pipeline/publish";
import { cli, toolchain, writeRecipe } from "./helpers.js";
import type { OllamaServer } from "./servers/ollama.js";

/** A finished run made with the real CLI, as a publish sees it. */
export interface FixtureRun {
  recipe: string;
  outDir: string;
  report: RunReport;
  input: PublishInput;
}

/** Runs `pipeline run` on a recipe written into `dir` (its out/ beside it) and reads back report.json. */
export async function fixtureRun(dir: string, recipe: Record<string, unknown>): Promise<FixtureRun> {
  const file = await writeRecipe(dir, { output: { dir: "out" }, ...recipe });
  const result = await cli(["run", file]);
  if (result.exitCode !== 0) throw new Error(`pipeline run ${file} failed (exit ${result.exitCode}):\n${result.all}`);
  const outDir = join(dir, "out");
  const report = JSON.parse(await readFile(join(outDir, "report.json"), "utf8")) as RunReport;
  const source = (recipe.source as { path: string }).path;
  const sourceDir = source.startsWith("/") ? source : join(dir, source);
  return { recipe: file, outDir, report, input: { outDir, report, recipeDir: dirname(file), source: { dir: sourceDir, name: basename(sourceDir) } } };
}

/** Drains a stage generator: its events and its return value. */
export async function drain<T>(run: AsyncGenerator<StageEvent, T>): Promise<{ events: StageEvent[]; value: T }> {
  const events: StageEvent[] = [];
  for (;;) {
    const next = await run.next();
    if (next.done) return { events, value: next.value };
    events.push(next.value);
  }
}

/** One non-streaming Ollama API call; a non-2xx answer fails with the server's words and its log. */
export async function api<T>(server: OllamaServer, method: string, path: string, body?: Record<string, unknown>): Promise<T> {
  const response = await fetch(`${server.url}${path}`, { method, ...(body ? { headers: { "content-type": "application/json" }, body: JSON.stringify({ ...body, stream: false }) } : {}) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}\n${server.logs().slice(-3000)}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/** Greedy decoding as llama.cpp does it: Ollama's default repeat_penalty (1.1) would change the tokens picked. */
export const greedy = { temperature: 0, top_k: 1, seed: 1, repeat_penalty: 1, num_predict: 16 };

export interface ShowResponse {
  modelfile: string;
  template: string;
  system?: string;
  license?: string;
  parameters?: string;
  details: { quantization_level: string; format: string };
  capabilities?: string[];
}

export async function tagNames(server: OllamaServer): Promise<string[]> {
  return (await api<{ models: { name: string }[] }>(server, "GET", "/api/tags")).models.map((m) => m.name).sort();
}

export async function generate(server: OllamaServer, model: string, prompt: string): Promise<{ response: string; eval_count: number }> {
  return api(server, "POST", "/api/generate", { model, prompt, options: greedy });
}

export async function chat(server: OllamaServer, model: string, messages: { role: string; content: string }[]): Promise<string> {
  return (await api<{ message: { content: string } }>(server, "POST", "/api/chat", { model, messages, options: greedy })).message.content;
}

/**
 * The reference for a chat: llama-completion renders the GGUF's own Jinja chat template (`--jinja`, single turn,
 * like the validation smoke test) and decodes greedily, `tokens` tokens at most.
 */
export async function llamaChat(params: { gguf: string; user: string; system?: string; tokens: number }): Promise<string> {
  const tc = await toolchain();
  const system = params.system ? ["-sys", params.system] : [];
  const args = ["-m", params.gguf, "-cnv", "-st", "--jinja", ...system, "-p", params.user, "-n", String(params.tokens), "--temp", "0", "--simple-io", "--no-warmup", "--no-display-prompt", "-t", String(availableParallelism())];
  const result = await execa(tc.tools.completion, args, { stdin: "ignore" });
  return result.stdout.replace(/^>\s*/gm, "").trim();
}

/** Parses /api/show's `parameters` (`name<spaces>value` lines, values in Go syntax) into lists of values. */
export function shownParameters(text: string | undefined): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const line of (text ?? "").split("\n")) {
    const match = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) (out[match[1]] ??= []).push(JSON.parse(match[2]));
  }
  return out;
}
