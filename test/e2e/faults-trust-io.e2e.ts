import { existsSync } from "node:fs";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_WRITE_TOKEN, startHub, type HubServer } from "@gguf-pipeline/test-hub";
import { stderrLines } from "../fault-helpers.js";
import { cli, copyTiny, tempDir, tinyModel, writeRecipe } from "../helpers.js";

/**
 * The trust boundaries, continued (issue 22): no call hangs, no line misleads, and what `validate` passes the run does
 * not then fail with a traceback. Each case asserts the exact line the user sees.
 */

let hub: HubServer;
let clean: { out: string };
const recipeOf = (repo: string, extra: Record<string, unknown> = {}) => ({ name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, quants: ["Q8_0"], validate: { smoke: "none" }, publish: { hf: { repo } }, ...extra });
// A hung request is given up after 1 s and tried twice: the whole publish gives up in seconds.
const env = () => ({ HF_ENDPOINT: hub.url, HF_TOKEN: DEFAULT_WRITE_TOKEN, GGUF_PIPELINE_HTTP_TIMEOUT: "1", GGUF_PIPELINE_HTTP_ATTEMPTS: "2" });
const errorLines = (result: { stderr?: unknown }) => stderrLines(result).filter((l) => l.startsWith("error:"));

beforeAll(async () => {
  hub = await startHub();
  const work = await tempDir("trust-io");
  const run = await cli(["run", await writeRecipe(work, recipeOf("test-user/io")), "--no-publish"]);
  expect(run.exitCode, run.all).toBe(0);
  clean = { out: join(work, "out") };
}, 120_000);
afterAll(() => hub.stop());

/** A finished run of `recipeOf(repo)` in a folder of its own (the clean run's files, found cached). */
async function finishedRun(repo: string): Promise<string> {
  const work = await tempDir("trust-io-run");
  await cp(clean.out, join(work, "out"), { recursive: true, preserveTimestamps: true });
  const recipe = await writeRecipe(work, recipeOf(repo));
  expect((await cli(["run", recipe, "--no-publish"])).exitCode).toBe(0);
  return recipe;
}

describe("trust: no call hangs, no line misleads", () => {
  it("should give up on a Hub that takes a request and never answers, naming the URL", async () => {
    const recipe = await finishedRun("test-user/io-hang");
    const whoami = hub.inject({ match: { pathPattern: "^/api/whoami-v2$" }, kind: "hang", times: Infinity });
    try {
      const run = await cli(["publish", recipe], { env: env() });
      expect(run.exitCode, run.all).toBe(1);
      expect(errorLines(run)).toEqual([`error: cannot ask ${hub.url} who HF_TOKEN belongs to (no answer from ${hub.url}/api/whoami-v2 in 1 s (2 tries)) — check HF_ENDPOINT and the network, then run again`]);
    } finally {
      whoami.remove();
    }
    const preupload = hub.inject({ match: { pathPattern: "/preupload/" }, kind: "hang", times: Infinity });
    try {
      const run = await cli(["publish", recipe], { env: env() });
      expect(run.exitCode, run.all).toBe(1);
      expect(errorLines(run)).toEqual([`error: no answer from ${hub.url}/api/models/test-user/io-hang/preupload/main in 1 s (2 tries) — check the network and HF_ENDPOINT, then run again (GGUF_PIPELINE_HTTP_TIMEOUT sets the wait)`]);
    } finally {
      preupload.remove();
    }
  });

  it("should say a storage 403 is the storage refusing the upload, not a token without write access", async () => {
    const recipe = await finishedRun("test-user/io-storage");
    const refused = hub.inject({ match: { method: "PUT", pathPattern: "^/_lfs/upload/" }, kind: "status", status: 403, times: Infinity });
    try {
      const run = await cli(["publish", recipe], { env: env() });
      expect(run.exitCode, run.all).toBe(1);
      expect(errorLines(run)).toEqual([
        expect.stringMatching(/^error: Tiny-(F32|Q8_0)\.gguf: the storage refused the upload of Tiny-(F32|Q8_0)\.gguf to test-user\/io-storage \(403 on its presigned upload URL: expired, or the Hub was restarted\) — run again: the upload starts over with new URLs \(files already uploaded are not sent again\); nothing was committed$/),
      ]);
    } finally {
      refused.remove();
    }
  });
});

describe("trust: what validate passes, the run does not fail with a traceback", () => {
  async function refused(prefix: string, damage: (model: string) => Promise<void>, recipe: (model: string) => Record<string, unknown> = (model) => ({ name: "Tiny", source: { path: model } })) {
    const work = await tempDir(prefix);
    const model = await copyTiny(work);
    await damage(model);
    const file = await writeRecipe(work, recipe(model));
    const result = await cli(["validate", file]);
    expect(result.exitCode, result.all).toBe(2);
    expect(existsSync(join(work, "out"))).toBe(false);
    return { line: errorLines(result), model, file };
  }

  it("should refuse a config.json with a byte that is not UTF-8", async () => {
    const { line, model } = await refused("trust-utf8", async (m) => {
      const text = await readFile(join(m, "config.json"));
      await writeFile(join(m, "config.json"), Buffer.concat([text.subarray(0, 10), Buffer.from([0xff]), text.subarray(10)]));
    });
    expect(line).toEqual([`error: ${join(model, "config.json")}: config.json is not valid UTF-8 (a bad byte at offset 10) — save it as UTF-8 (it is JSON: transformers and the converter read it as UTF-8)`]);
  });

  it("should refuse a safetensors header whose tensors overlap", async () => {
    const { line, model } = await refused("trust-overlap", async (m) => {
      const file = join(m, "model.safetensors");
      const bytes = await readFile(file);
      const length = Number(bytes.readBigUInt64LE(0));
      const header = JSON.parse(bytes.subarray(8, 8 + length).toString("utf8")) as Record<string, { data_offsets?: [number, number] }>;
      const [first, second] = Object.entries(header).filter(([k]) => k !== "__metadata__").sort(([, a], [, b]) => (a.data_offsets?.[0] ?? 0) - (b.data_offsets?.[0] ?? 0));
      // The second tensor starts 4 bytes into the first; its size stays (so the header still adds up otherwise).
      const [begin = 0, end = 0] = second?.[1].data_offsets ?? [];
      if (second) second[1].data_offsets = [begin - 4, end - 4];
      void first;
      const text = Buffer.from(JSON.stringify(header).padEnd(length, " "));
      await writeFile(file, Buffer.concat([bytes.subarray(0, 8), text, bytes.subarray(8 + length)]));
    });
    expect(line).toEqual([expect.stringMatching(new RegExp(`^error: ${join(model, "model.safetensors")}: safetensors header is corrupt \\(tensors \\S+ and \\S+ overlap at bytes \\d+–\\d+\\) — re-download or re-save this file; it is corrupt or incomplete$`))]);
  });

  it("should refuse a source folder whose name would make file names too long, before anything is written", async () => {
    const work = await tempDir("trust-long");
    const model = join(work, "m".repeat(245));
    await mkdir(model);
    await cp(tinyModel, model, { recursive: true });
    const file = await writeRecipe(work, { source: { path: model } });
    const result = await cli(["run", file]);
    expect(result.exitCode, result.all).toBe(2);
    expect(errorLines(result)).toEqual([`error: ${file}:3: the output files are named after the source folder, whose name has 245 characters: more than the 96 a name may have — set "name" in the recipe (letters, digits, ".", "_", "-"; at most 96)`]);
    expect(existsSync(join(work, "out"))).toBe(false);
  });

  it("should refuse a publish.ollama.system no Modelfile can carry at validate, not after the ladder", async () => {
    const { line, file } = await refused("trust-system", async () => undefined, (model) => ({ name: "Tiny", source: { path: model }, publish: { ollama: { name: "tiny", system: "Be brief.\u0007" } } }));
    expect(line).toEqual([`error: ${file}:9: SYSTEM has the character U+0007, which Ollama's Modelfile parser drops — reword it (no quote right before a line break, no control characters)`]);
  });

  it("should read --jobs as digits only, and say how to pass a value that starts with a dash", async () => {
    const lines = async (...args: string[]) => errorLines(await cli(["run", "recipe.json", ...args]));
    expect(await lines("--jobs", "-1")).toEqual(['error: option --jobs needs a value — one that starts with a dash goes after "=": --jobs=-1']);
    expect(await lines("--jobs=-1")).toEqual(['error: --jobs must be a positive integer, not "-1" — run `pipeline --help`']);
    expect(await lines("--jobs", "1e3")).toEqual(['error: --jobs must be a positive integer, not "1e3" — run `pipeline --help`']);
    expect(await lines("--jobs", "0x2")).toEqual(['error: --jobs must be a positive integer, not "0x2" — run `pipeline --help`']);
  });

  it("should name GGUF_PIPELINE_CACHE when the cache folder cannot be made", async () => {
    const work = await tempDir("trust-cache");
    const blocker = join(work, "a-file");
    await writeFile(blocker, "not a folder\n");
    const recipe = await writeRecipe(work, { name: "Tiny", source: { path: tinyModel } });
    const xdg = await cli(["run", recipe], { env: { XDG_CACHE_HOME: blocker, GGUF_PIPELINE_CACHE: "" } });
    expect(xdg.exitCode, xdg.all).toBe(1);
    expect(errorLines(xdg)).toEqual([expect.stringMatching(new RegExp(`^error: ${blocker}(/gguf-pipeline)?\\S*: a file stands where a folder must be — the cache folder ${blocker}/gguf-pipeline is not usable: set GGUF_PIPELINE_CACHE to a writable folder \\(or fix XDG_CACHE_HOME / HOME\\)$`))]);
    const home = await cli(["run", recipe], { env: { HOME: blocker, XDG_CACHE_HOME: "", GGUF_PIPELINE_CACHE: "" } });
    expect(home.exitCode, home.all).toBe(1);
    expect(errorLines(home)).toEqual([expect.stringMatching(new RegExp(`^error: ${blocker}\\S*: a file stands where a folder must be — the cache folder ${blocker}/\\.cache/gguf-pipeline is not usable: set GGUF_PIPELINE_CACHE`))]);
  });
});
