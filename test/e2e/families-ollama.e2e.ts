import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatShapes, type RunReport } from "@gguf-pipeline/core";
import { renderOllamaPrompt } from "@gguf-pipeline/publish";
import { families, familyModel } from "../family-helpers.js";
import { cli, tempDir, writeRecipe } from "../helpers.js";
import { DEFAULT_WRITE_TOKEN, startHub, type HubServer } from "@gguf-pipeline/test-hub";
import { api, shownParameters, type ShowResponse } from "../ollama-helpers.js";
import { startOllama, type OllamaServer } from "../servers/ollama.js";

/**
 * Chat-template parity in Ollama (issue 23, part 4): for each family, the prompt a real `ollama serve` renders for a
 * few conversations (it logs it at OLLAMA_DEBUG=2) is the model's own Jinja template rendered by transformers — or the
 * run said, in one line, which conversations it renders otherwise. And the pipeline's own rendering of the Modelfile
 * (what that line is computed from) is the server's, prompt for prompt. The run also publishes to the (local) Hub, and
 * the model Ollama pulls from there (`ollama run hf.co/…`) renders the same prompts as the Modelfile's.
 */

let ollama: OllamaServer;
let hub: HubServer;

beforeAll(async () => {
  [ollama, hub] = await Promise.all([startOllama({ env: { OLLAMA_DEBUG: "2" } }), startHub()]);
}, 120_000);
afterAll(() => Promise.all([ollama.stop(), hub.stop()]));

/** The prompts the server logged, in order (Go's %q quoting: JSON's, but for \x escapes). */
function loggedPrompts(logs: string): string[] {
  return [...logs.matchAll(/msg="completion request" prompt=("(?:\\.|[^"\\])*")/g)].map((m) => JSON.parse((m[1] ?? "").replace(/\\x([0-9a-f]{2})/g, "\\u00$1")) as string);
}

/** The prompt the server logs for this request: its log reaches us through a pipe, maybe after the answer does. */
async function promptServed(send: () => Promise<unknown>): Promise<string | undefined> {
  const mark = ollama.logMark();
  await send();
  for (let waited = 0; waited < 10_000; waited += 50) {
    const prompt = loggedPrompts(ollama.logsSince(mark)).at(-1);
    if (prompt !== undefined) return prompt;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

/** A Modelfile's TEMPLATE and SYSTEM (the pipeline writes both as """…""" blocks or quoted). */
function modelfilePart(modelfile: string, command: string): string | undefined {
  const block = new RegExp(`^${command} """([\\s\\S]*?)"""$`, "m").exec(modelfile)?.[1];
  if (block !== undefined) return block;
  const quoted = new RegExp(`^${command} "(.*)"$`, "m").exec(modelfile)?.[1];
  return quoted ?? new RegExp(`^${command} (.*)$`, "m").exec(modelfile)?.[1];
}

describe("families in Ollama: the prompts a real server renders are the model's own, or the run says which are not", () => {
  for (const family of families) {
    it(`should render ${family}'s chat prompts in Ollama as its template does, or name the ones it cannot`, async () => {
      const work = await tempDir(`family-ollama-${family}`);
      const name = `ollama-${family.replace(/[^a-z0-9]/g, "")}`;
      const repo = `test-user/${name}`;
      const recipe = await writeRecipe(work, { name, source: { path: await familyModel(family) }, convert: { outtype: "f16" }, validate: { smoke: "none" }, publish: { ollama: { name, host: ollama.host }, hf: { repo } } });
      const run = await cli(["run", recipe], { env: { HF_ENDPOINT: hub.url, HF_TOKEN: DEFAULT_WRITE_TOKEN } });
      expect(run.exitCode, run.all).toBe(0);
      const report = JSON.parse(await readFile(join(work, "out", "report.json"), "utf8")) as RunReport;
      const shapes = report.validation?.chat?.shapes ?? {};
      expect(Object.keys(shapes)).toEqual(Object.keys(chatShapes));
      const modelfile = await readFile(join(work, "out", "ollama", "f16", "Modelfile"), "utf8");
      const template = modelfilePart(modelfile, "TEMPLATE") ?? "";
      const system = modelfilePart(modelfile, "SYSTEM");
      // `ollama run hf.co/…` gets the same: pulled from the Hub, the model has the Modelfile's template, system and stops.
      const pulled = `127.0.0.1:${hub.port}/${repo}:F16`;
      expect(await api<{ status: string }>(ollama, "POST", "/api/pull", { model: pulled, insecure: true }), family).toMatchObject({ status: "success" });
      const shown = await api<ShowResponse>(ollama, "POST", "/api/show", { model: pulled });
      expect(shown.template, family).toBe(template);
      expect(shown.system, family).toBe(system);
      expect((shownParameters(shown.parameters).stop as string[] | undefined)?.sort(), family).toEqual([...modelfile.matchAll(/^PARAMETER stop (.*)$/gm)].map((m) => (m[1] ?? "").replace(/^"(.*)"$/, "$1")).sort());
      // A thinking model writes <think> first: a stop on it would end every answer before it began.
      expect(modelfile, family).not.toMatch(/^PARAMETER stop "?<\/?think>"?$/m);
      const warned = /Ollama renders other prompts than the model's own chat template for ((?:\[[^\]]+\](?:, )?)+) \(/.exec(run.all)?.[1] ?? "";
      // Every family's conversations render as its own template does (Qwen3's and Mistral's by repairing the closest).
      expect(warned, `${family}: named as differing`).toBe("");
      for (const [shape, messages] of Object.entries(chatShapes)) {
        const served = await promptServed(() => api(ollama, "POST", "/api/chat", { model: `${name}:f16`, messages, options: { num_predict: 1 } }));
        expect(served, `${family} ${shape}: no prompt in the server's log`).toBeDefined();
        const fromHub = await promptServed(() => api(ollama, "POST", "/api/chat", { model: pulled, messages, options: { num_predict: 1 } }));
        expect(fromHub, `${family} ${shape}: pulled from the Hub`).toBe(served);
        // The pipeline renders the Modelfile as the server does.
        expect(renderOllamaPrompt({ template, ...(system ? { system } : {}), messages }), `${family} ${shape}`).toBe(served);
        const model = shapes[shape];
        if (model === null || model === undefined) continue;
        // Equal to the model's own prompt, unless the run named this conversation.
        if (warned.includes(shape)) expect(served, `${family} ${shape} was named as differing`).not.toBe(model);
        else expect(served, `${family} ${shape}`).toBe(model);
      }
      // Llama 3.x's template writes today's date; the Modelfile's, the run's: said.
      expect(/writes the current date \(strftime_now\)/.test(run.all), family).toBe(family === "llama3.2");
      // Gemma 2's template refuses a system message; Ollama cannot refuse one, and the run says so.
      const refused = /the model's own chat template refuses ((?:\[[^\]]+\](?:, )?)+) \(/.exec(run.all)?.[1] ?? "";
      expect(refused, family).toBe(family === "gemma2" ? "[system, user], [system, user, assistant, user]" : "");
      console.log(`${family}: ${warned ? `differs for ${warned}` : "every conversation renders as the model's template does"}${refused ? `; its template refuses ${refused}` : ""}${system ? `; SYSTEM ${JSON.stringify(system.slice(0, 60))}` : ""}`);
    }, 600_000);
  }
});
