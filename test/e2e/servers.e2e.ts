import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, tempDir, tinyModel, writeRecipe } from "../helpers.js";
import { actionlint } from "../servers/actionlint.js";
import { startOllama, type OllamaServer } from "../servers/ollama.js";
import { startRegistry, type RegistryServer } from "../servers/registry.js";

interface GenerateResponse {
  response: string;
  eval_count: number;
  done: boolean;
}

/** One non-streaming Ollama API call; a non-2xx answer fails with the server's words and log. */
async function api<T>(server: OllamaServer, method: string, path: string, body: Record<string, unknown>): Promise<T> {
  const response = await fetch(`${server.url}${path}`, { method, headers: { "content-type": "application/json" }, body: JSON.stringify({ ...body, stream: false }) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}\n${server.logs()}`);
  return (text ? JSON.parse(text) : {}) as T;
}

describe("test servers: a real ollama serve and registry", () => {
  let ollama: OllamaServer;
  let registry: RegistryServer;
  let gguf: string;
  let model: string;
  let first: GenerateResponse;
  const generate = { prompt: "Once upon a time", options: { temperature: 0, top_k: 1, seed: 1, num_predict: 12, num_ctx: 128 } };

  beforeAll(async () => {
    const work = await tempDir("servers");
    const recipe = { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, quants: ["Q8_0"] };
    const [run, started, reg] = await Promise.all([cli(["run", await writeRecipe(work, recipe)]), startOllama(), startRegistry()]);
    ollama = started;
    registry = reg;
    expect(run.exitCode, run.all).toBe(0);
    gguf = join(work, "out", "Tiny-Q8_0.gguf");
    model = `${registry.host}/library/tiny:q8_0`;
  });

  afterAll(async () => {
    await Promise.all([ollama?.stop(), registry?.stop()]);
  });

  it("should start ollama serve on loopback and report the pinned version 0.24.0", async () => {
    expect(ollama.host).toMatch(/^127\.0\.0\.1:\d+$/);
    const version = (await (await fetch(`${ollama.url}/api/version`)).json()) as { version: string };
    expect(version.version).toBe("0.24.0");
  });

  it("should upload the GGUF as a blob, create a model with an explicit template, and generate tokens", async () => {
    const digest = `sha256:${createHash("sha256").update(await readFile(gguf)).digest("hex")}`;
    const blob = `${ollama.url}/api/blobs/${digest}`;
    expect((await fetch(blob, { method: "HEAD" })).status).toBe(404);
    const upload = await fetch(blob, { method: "POST", body: Readable.toWeb(createReadStream(gguf)) as ReadableStream<Uint8Array>, duplex: "half" });
    expect(upload.status).toBe(201);
    expect((await fetch(blob, { method: "HEAD" })).status).toBe(200);

    const created = await api<{ status: string }>(ollama, "POST", "/api/create", { model, files: { "Tiny-Q8_0.gguf": digest }, template: "{{ .Prompt }}" });
    expect(created.status).toBe("success");
    first = await api<GenerateResponse>(ollama, "POST", "/api/generate", { model, ...generate });
    expect(first).toMatchObject({ done: true });
    expect(first.eval_count).toBeGreaterThan(0);
    expect(first.response.length).toBeGreaterThan(0);
  });

  it("should push to the local registry, delete, pull back, and generate the same output", async () => {
    expect(await api<{ status: string }>(ollama, "POST", "/api/push", { model, insecure: true })).toMatchObject({ status: "success" });
    const manifest = await fetch(`${registry.url}/v2/library/tiny/manifests/q8_0`, { headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" } });
    expect(manifest.status).toBe(200);
    const layers = ((await manifest.json()) as { layers: { digest: string }[] }).layers;
    const blob = await fetch(`${registry.url}/v2/library/tiny/blobs/${layers[0]?.digest}`, { redirect: "manual" });
    expect(blob.status).toBe(307);
    expect(blob.headers.get("location")).toMatch(new RegExp(`^${registry.cdn}/`));

    await api(ollama, "DELETE", "/api/delete", { model });
    const tags = (await (await fetch(`${ollama.url}/api/tags`)).json()) as { models: { name: string }[] };
    expect(tags.models.map((m) => m.name)).not.toContain(model);

    expect(await api<{ status: string }>(ollama, "POST", "/api/pull", { model, insecure: true })).toMatchObject({ status: "success" });
    const again = await api<GenerateResponse>(ollama, "POST", "/api/generate", { model, ...generate });
    expect(again.response).toBe(first.response);
    expect(again.eval_count).toBe(first.eval_count);
  });
});

describe("test servers: actionlint", () => {
  let dir: string;
  beforeAll(async () => {
    dir = join(await tempDir("actionlint"), ".github", "workflows");
    await mkdir(dir, { recursive: true });
  });

  it("should pass a minimal valid workflow", async () => {
    const file = join(dir, "ok.yml");
    await writeFile(file, ["name: ok", "on: push", "jobs:", "  test:", "    runs-on: ubuntu-latest", "    steps:", "      - uses: actions/checkout@v4", "      - run: echo hi", ""].join("\n"));
    expect(await actionlint({ files: [file] })).toEqual({ ok: true, output: "" });
  });

  it("should fail a broken workflow and name the problem", async () => {
    const file = join(dir, "broken.yml");
    await writeFile(file, ["name: broken", "on: push", "jobs:", "  test:", "    runs-on: ubuntu-latest", "    steps:", "      - run: echo ${{ github.nope }}", ""].join("\n"));
    const result = await actionlint({ files: [file] });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/broken\.yml:7:\d+: .*"nope"/);
  });
});
