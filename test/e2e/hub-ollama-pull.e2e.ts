import { openAsBlob } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gguf } from "@huggingface/gguf";
import { createRepo, uploadFiles } from "@huggingface/hub";
import { convertGGUFTemplateToOllama } from "@huggingface/ollama-utils";
import { startHub } from "@gguf-pipeline/test-hub";
import type { HubServer, HubTokenInfo } from "@gguf-pipeline/test-hub";
import { convertHf } from "../embed-helpers.js";
import { tempDir, tinyModel } from "../helpers.js";
import { sha256, sha256File } from "../hub-helpers.js";
import { api, greedy, shownParameters } from "../ollama-helpers.js";
import type { ShowResponse } from "../ollama-helpers.js";
import { startOllama } from "../servers/ollama.js";
import type { OllamaServer } from "../servers/ollama.js";

const WRITE = `hf_${"w".repeat(34)}`;
const OTHER = `hf_${"o".repeat(34)}`;
const tokens: Record<string, HubTokenInfo> = { [WRITE]: { user: "test-user", role: "write" }, [OTHER]: { user: "other-user", role: "write" } };

// The repo-root files the Hub turns into layers; the template is not what the converter would make of the GGUF's.
const template = "{{ if .System }}<|system|>\n{{ .System }}</s>\n{{ end }}<|user|>\n{{ .Prompt }}</s>\n<|assistant|>\n";
const system = "You are a tiny test model.";
const params = { temperature: 0.25, top_k: 7, stop: ["<|user|>", "</s>"] };
const license = "MIT License\n\nCopyright (c) 2025 test-user\n";
const accept = { Accept: "application/vnd.docker.distribution.manifest.v2+json" };

interface Manifest {
  schemaVersion: number;
  mediaType: string;
  config: { digest: string; mediaType: string; size: number };
  layers: { digest: string; mediaType: string; size: number }[];
}

let hub: HubServer;
let ollama: OllamaServer;
let q8: string;
let q8Sha: string;

const registry = () => `127.0.0.1:${hub.port}`;
const pull = (model: string) => api<{ status: string }>(ollama, "POST", "/api/pull", { model, insecure: true });
const show = (model: string) => api<ShowResponse>(ollama, "POST", "/api/show", { model });
/** The error a pull reports ("" when it succeeds), as Ollama words it. */
async function pullError(model: string): Promise<string> {
  const response = await fetch(`${ollama.url}/api/pull`, { method: "POST", body: JSON.stringify({ model, insecure: true, stream: false }) });
  return ((await response.json()) as { error?: string }).error ?? "";
}

async function upload(repo: string, files: Record<string, string | Blob>, isPrivate = false): Promise<void> {
  await createRepo({ hubUrl: hub.url, accessToken: WRITE, repo, private: isPrivate });
  const list = Object.entries(files).map(([path, content]) => ({ path, content: typeof content === "string" ? new Blob([content]) : content }));
  await uploadFiles({ hubUrl: hub.url, accessToken: WRITE, repo, files: list });
}

beforeAll(async () => {
  const work = await tempDir("hub-ollama");
  q8 = join(work, "Tiny-Q8_0.gguf");
  const servers = Promise.all([startHub({ tokens }), startOllama()]);
  servers.catch(() => undefined);
  await convertHf({ modelDir: tinyModel, out: q8, outtype: "q8_0" });
  [hub, ollama] = await servers;
  q8Sha = await sha256File(q8);
  const model = await openAsBlob(q8);
  // Shards only name a tag the Hub refuses: their bytes are never read.
  const shard = new Blob([new Uint8Array(4096)]);
  await Promise.all([
    upload("test-user/tiny-custom", { "Tiny-Q8_0.gguf": model, template, system, params: JSON.stringify(params), LICENSE: license }),
    upload("test-user/tiny-plain", { "Tiny-Q8_0.gguf": model, "Tiny-F16-00001-of-00002.gguf": shard, "Tiny-F16-00002-of-00002.gguf": shard }),
    upload("test-user/tiny-private", { "Tiny-Q8_0.gguf": model }, true),
  ]);
});

afterAll(async () => {
  await Promise.all([hub?.stop(), ollama?.stop()]);
});

describe("test hub: the Ollama registry (hf.co/{repo}:{tag})", () => {
  it("should answer a manifest naming the GGUF by its sha256 and the repo-root files, and 307 blobs to another host", async () => {
    hub.clearRequests();
    const response = await fetch(`${hub.url}/v2/test-user/tiny-custom/manifests/Q8_0`, { headers: accept });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/vnd.docker.distribution.manifest.v2+json");
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.headers.get("docker-content-digest")).toBe(`sha256:${sha256(body)}`);
    const manifest = JSON.parse(body.toString("utf8")) as Manifest;
    expect(manifest).toMatchObject({ schemaVersion: 2, mediaType: "application/vnd.docker.distribution.manifest.v2+json", config: { mediaType: "application/vnd.docker.container.image.v1+json" } });
    const { size } = await openAsBlob(q8);
    expect(manifest.layers[0]).toEqual({ digest: `sha256:${q8Sha}`, mediaType: "application/vnd.ollama.image.model", size });
    expect(manifest.layers.map((l) => l.mediaType.replace("application/vnd.ollama.image.", ""))).toEqual(["model", "system", "template", "params", "license"]);

    // The tag in any case, `latest` (no Q4_K_M here: the nearest quant) and the repo id in any case: the same manifest.
    for (const path of ["test-user/tiny-custom/manifests/q8_0", "test-user/tiny-custom/manifests/latest", "Test-User/Tiny-Custom/manifests/Q8_0"]) {
      expect(Buffer.from(await (await fetch(`${hub.url}/v2/${path}`, { headers: accept })).arrayBuffer()).equals(body), path).toBe(true);
    }

    const blobUrl = (digest: string) => `${hub.url}/v2/test-user/tiny-custom/blobs/${digest}`;
    const head = await fetch(blobUrl(`sha256:${q8Sha}`), { method: "HEAD" });
    expect([head.status, head.headers.get("content-length")]).toEqual([200, String(size)]);
    const redirect = await fetch(blobUrl(`sha256:${q8Sha}`), { redirect: "manual" });
    expect(redirect.status).toBe(307);
    expect(redirect.headers.get("location")).toMatch(new RegExp(`^http://localhost:${hub.port}/_cdn/${q8Sha}\\?`));
    const ranged = await fetch(redirect.headers.get("location") ?? "", { headers: { Range: "bytes=0-3" } });
    expect([ranged.status, await ranged.text()]).toEqual([206, "GGUF"]);
    // The made-up blobs: what the repo's files hold, and a config naming every layer.
    const text = async (digest: string) => (await fetch(blobUrl(digest))).text();
    const byType = (type: string) => manifest.layers.find((l) => l.mediaType === `application/vnd.ollama.image.${type}`)?.digest ?? "";
    expect([await text(byType("template")), await text(byType("system")), JSON.parse(await text(byType("params"))), await text(byType("license"))]).toEqual([template, system, params, license]);
    const config = JSON.parse(await text(manifest.config.digest)) as Record<string, unknown>;
    expect(config).toEqual({ model_format: "gguf", model_family: "llama", model_families: ["llama"], model_type: "", file_type: "Q8_0", architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: manifest.layers.map((l) => l.digest) } });
    // A blob of another repo is not served through this one.
    const other = await fetch(`${hub.url}/v2/test-user/tiny-plain/blobs/${byType("template")}`, { method: "HEAD" });
    expect(other.status).toBe(404);
    expect(hub.writeRequests()).toEqual([]);
  });

  it("should refuse what the Hub refuses: tags that name no file, shards, unknown and private repos", async () => {
    const manifest = async (path: string, token?: string) => {
      const response = await fetch(`${hub.url}/v2/${path}`, { headers: { ...accept, ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
      return { status: response.status, body: (await response.json()) as { error: string }, challenge: response.headers.get("www-authenticate") };
    };
    expect(await manifest("test-user/tiny-plain/manifests/Q4_K_M")).toMatchObject({ status: 400, body: { error: expect.stringContaining("The specified tag is not available in the repository") } });
    expect(await manifest("test-user/tiny-plain/manifests/Q2")).toMatchObject({ status: 400, body: { error: expect.stringContaining("The specified tag is not a valid quantization scheme") } });
    expect(await manifest("test-user/tiny-plain/manifests/F16")).toMatchObject({ status: 400, body: { error: expect.stringContaining("The specified tag is a sharded GGUF") } });
    // Anonymous: the Hub's 401, with a challenge for Ollama; the owner's token reads it; another user's gets 404.
    const anonymous = await manifest("test-user/tiny-private/manifests/Q8_0");
    expect(anonymous).toMatchObject({ status: 401, body: { error: "Invalid username or password." } });
    expect(anonymous.challenge).toBe(`Bearer realm="${hub.url}/v2/token",service="${registry()}",scope="repository:test-user/tiny-private:pull"`);
    expect((await manifest("test-user/tiny-private/manifests/Q8_0", WRITE)).status).toBe(200);
    expect((await manifest("test-user/tiny-private/manifests/Q8_0", OTHER)).status).toBe(404);
    expect((await manifest("test-user/no-such-repo/manifests/Q8_0")).status).toBe(401);
  });
});

describe("test hub: the real `ollama pull` from it", () => {
  it("should pull a tag with the repo's template, system, params and license, the GGUF as the model blob, and chat", async () => {
    const model = `${registry()}/test-user/tiny-custom:Q8_0`;
    hub.clearRequests();
    expect(await pull(model)).toMatchObject({ status: "success" });
    const asked = hub.requests.map((r) => `${r.method} ${r.path.replace(/[0-9a-f]{64}/, "…")} ${r.status}`);
    expect(asked).toEqual(expect.arrayContaining(["GET /v2/test-user/tiny-custom/manifests/Q8_0 200", "HEAD /v2/test-user/tiny-custom/blobs/sha256:… 200", "GET /v2/test-user/tiny-custom/blobs/sha256:… 307", "GET /_cdn/… 206"]));
    expect(hub.writeRequests()).toEqual([]);

    const shown = await show(model);
    expect(shown.template).toBe(template);
    expect(shown.system).toBe(system);
    expect(shownParameters(shown.parameters)).toEqual({ temperature: [0.25], top_k: [7], stop: ["<|user|>", "</s>"] });
    expect(shown.license).toBe(license);
    expect(shown.details).toMatchObject({ format: "gguf", quantization_level: "Q8_0" });
    expect(shown.modelfile.match(/^FROM .*sha256-([0-9a-f]{64})$/m)?.[1]).toBe(q8Sha);

    const answer = await api<{ message: { role: string; content: string }; done: boolean; eval_count: number }>(ollama, "POST", "/api/chat", { model, messages: [{ role: "user", content: "Once upon a time" }], options: greedy });
    expect(answer).toMatchObject({ done: true, message: { role: "assistant" } });
    expect(answer.eval_count).toBeGreaterThan(0);
  });

  it("should show @huggingface/ollama-utils' conversion of the GGUF's chat template when the repo has no template file", async () => {
    const model = `${registry()}/test-user/tiny-plain:q8_0`;
    expect(await pull(model)).toMatchObject({ status: "success" });
    const { metadata } = await gguf(q8, { allowLocalFile: true });
    const kv = metadata as unknown as Record<string, unknown>;
    const vocabulary = kv["tokenizer.ggml.tokens"] as string[];
    const expected = convertGGUFTemplateToOllama({
      chat_template: String(kv["tokenizer.chat_template"]),
      bos_token: vocabulary[Number(kv["tokenizer.ggml.bos_token_id"])] ?? "",
      eos_token: vocabulary[Number(kv["tokenizer.ggml.eos_token_id"])] ?? "",
    });
    expect(expected?.ollama.template).toContain("{{ .Prompt }}");
    const shown = await show(model);
    expect(shown.template).toBe(expected?.ollama.template);
    expect(shownParameters(shown.parameters).stop).toEqual(expected?.ollama.params?.stop);
    expect(shown.system ?? "").toBe("");
    expect(shown.license ?? "").toBe("");
    expect(shown.modelfile.match(/^FROM .*sha256-([0-9a-f]{64})$/m)?.[1]).toBe(q8Sha);
  });

  it("should fail a pull with the Hub's words: a tag that names no file, a sharded tag, a private repo", async () => {
    expect(await pullError(`${registry()}/test-user/tiny-plain:Q4_K_M`)).toBe('pull model manifest: 400: {"error":"The specified tag is not available in the repository. Please use another tag or \\"latest\\""}');
    expect(await pullError(`${registry()}/test-user/tiny-plain:F16`)).toMatch(/^pull model manifest: 400: \{"error":"The specified tag is a sharded GGUF/);
    // Ollama asks the challenge's realm for a token with its own key, which the Hub does not know.
    expect(await pullError(`${registry()}/test-user/tiny-private:Q8_0`)).toBe('pull model manifest: 401: {"error":"Invalid username or password."}');
    expect(await pullError(`${registry()}/test-user/tiny-plain:Q8_0`)).toBe("");
  });
});
