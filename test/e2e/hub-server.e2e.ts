import { randomBytes } from "node:crypto";
import { existsSync, openAsBlob } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { HubApiError, commit, createRepo, downloadFile, fileExists, listFiles, modelInfo, pathsInfo, repoExists, uploadFile, uploadFiles, whoAmI } from "@huggingface/hub";
import type { ListFileEntry } from "@huggingface/hub";
import { startHub } from "@gguf-pipeline/test-hub";
import type { HubServer, HubTokenInfo } from "@gguf-pipeline/test-hub";
import { cli, repoRoot, tempDir, tinyModel, toolchain, writeRecipe } from "../helpers.js";
import { gitBlobOid, hubClientEnv, pythonHubClient, sha256, sha256File } from "../hub-helpers.js";

const WRITE = `hf_${"w".repeat(34)}`;
const READ = `hf_${"r".repeat(34)}`;
const OTHER = `hf_${"o".repeat(34)}`;
const tokens: Record<string, HubTokenInfo> = {
  [WRITE]: { user: "test-user", role: "write", orgs: ["test-org"] },
  [READ]: { user: "test-user", role: "read" },
  [OTHER]: { user: "other-user", role: "write" },
};
// Small pages and parts, so that pagination and multipart uploads happen with small files.
const options = { tokens, pageSize: 2, multipart: { threshold: 300_000, chunkSize: 128 * 1024 } };
const card = "---\nlicense: mit\nbase_model: examples/tiny\ntags:\n- gguf\n---\n# Tiny\n";

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const count = (hub: HubServer, method: string, pattern: RegExp) => hub.requests.filter((r) => r.method === method && pattern.test(r.path)).length;

describe("test hub: the JS client @huggingface/hub", () => {
  let hub: HubServer;
  const repo = "test-user/js-client";
  const as = (accessToken = WRITE) => ({ hubUrl: hub.url, accessToken });
  const head = async () => (await modelInfo({ ...as(), name: repo, additionalFields: ["sha"] })).sha;
  const binary = randomBytes(50_000);
  const large = randomBytes(700_000);

  beforeAll(async () => {
    hub = await startHub(options);
  });
  afterAll(() => hub.stop());

  it("should answer whoAmI with the token's user, role and orgs, and 401 an unknown token", async () => {
    await expect(whoAmI(as())).resolves.toMatchObject({ type: "user", name: "test-user", orgs: [{ name: "test-org" }], auth: { type: "access_token", accessToken: { role: "write" } } });
    await expect(whoAmI(as(`hf_${"x".repeat(34)}`))).rejects.toMatchObject({ statusCode: 401, message: expect.stringContaining("Invalid credentials in Authorization header") });
  });

  it("should create a repo holding the Hub's initial commit, and make a second create throw a 409 HubApiError", async () => {
    await expect(createRepo({ ...as(), repo })).resolves.toMatchObject({ repoUrl: `${hub.url}/${repo}` });
    const again = await createRepo({ ...as(), repo }).catch((error: unknown) => error);
    expect(again).toBeInstanceOf(HubApiError);
    expect(again).toMatchObject({ statusCode: 409, message: expect.stringContaining("You already created this model repo") });
    expect(await repoExists({ ...as(), repo })).toBe(true);
    const files = await all(listFiles({ ...as(), repo, expand: true }));
    expect(files).toMatchObject([{ type: "file", path: ".gitattributes", lastCommit: { title: "initial commit" } }]);
  });

  it("should take text inline, a binary through LFS basic and a large file through multipart, then skip stored objects", async () => {
    hub.clearRequests();
    const files = [
      { path: "README.md", content: new Blob([card]) },
      { path: "weights/model.gguf", content: new Blob([binary]) },
      { path: "big.gguf", content: new Blob([large]) },
    ];
    const out = await uploadFiles({ ...as(), repo, files });
    expect(out?.commit.oid).toMatch(/^[0-9a-f]{40}$/);
    expect(out?.commit.url).toBe(`${hub.url}/${repo}/commit/${out?.commit.oid}`);
    expect(count(hub, "PUT", /^\/_lfs\/upload\//)).toBe(1);
    expect(count(hub, "PUT", /^\/_lfs\/multipart\/\w+\/\d+$/)).toBe(Math.ceil(large.length / (128 * 1024)));
    expect(count(hub, "POST", /\/complete$/)).toBe(1);
    const byPath = new Map((await all(listFiles({ ...as(), repo, recursive: true }))).map((f) => [f.path, f]));
    expect(byPath.get("README.md")).toMatchObject({ type: "file", size: card.length, oid: await gitBlobOid(card) });
    expect(byPath.get("README.md")?.lfs).toBeUndefined();
    expect(byPath.get("weights/model.gguf")).toMatchObject({ size: binary.length, lfs: { oid: sha256(binary), size: binary.length } });
    expect(byPath.get("big.gguf")).toMatchObject({ size: large.length, lfs: { oid: sha256(large), size: large.length } });
    // The LFS entry's oid is git's id of the pointer file, as on the Hub.
    const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(large)}\nsize ${large.length}\n`;
    expect(byPath.get("big.gguf")).toMatchObject({ oid: await gitBlobOid(pointer), lfs: { pointerSize: pointer.length } });
    hub.clearRequests();
    await uploadFiles({ ...as(), repo, files });
    expect(count(hub, "PUT", /./)).toBe(0);
  });

  it("should list a tree page by page through absolute Link headers, and describe paths with pathsInfo", async () => {
    hub.clearRequests();
    const listed = await all(listFiles({ ...as(), repo, recursive: true }));
    expect(listed.map((f: ListFileEntry) => `${f.type}:${f.path}`)).toEqual(["file:.gitattributes", "file:README.md", "file:big.gguf", "directory:weights", "file:weights/model.gguf"]);
    const pages = hub.requests.filter((r) => r.path === `/api/models/${repo}/tree/main`);
    expect(pages.map((r) => r.query.includes("cursor="))).toEqual([false, true, true]);
    const info = await pathsInfo({ ...as(), repo, paths: ["big.gguf", "weights", "missing.txt"], expand: true });
    expect(info).toMatchObject([
      { type: "file", path: "big.gguf", lfs: { oid: sha256(large) }, lastCommit: { id: expect.stringMatching(/^[0-9a-f]{40}$/) } },
      { type: "directory", path: "weights" },
    ]);
  });

  it("should serve downloads whole and by range, and tell present files from missing ones", async () => {
    const blob = await downloadFile({ ...as(), repo, path: "big.gguf" });
    expect(blob?.size).toBe(large.length);
    expect(sha256(new Uint8Array((await blob?.arrayBuffer()) ?? new ArrayBuffer(0)))).toBe(sha256(large));
    const slice = new Uint8Array((await blob?.slice(1000, 1100).arrayBuffer()) ?? new ArrayBuffer(0));
    expect(Buffer.from(slice).equals(large.subarray(1000, 1100))).toBe(true);
    expect(await (await downloadFile({ ...as(), repo, path: "README.md" }))?.text()).toBe(card);
    expect(await downloadFile({ ...as(), repo, path: "missing.txt" })).toBeNull();
    expect(await fileExists({ ...as(), repo, path: "weights/model.gguf" })).toBe(true);
    expect(await fileExists({ ...as(), repo, path: "missing.txt" })).toBe(false);
  });

  it("should reject a commit naming an LFS object that was never uploaded, and leave the branch where it was", async () => {
    const before = await head();
    // A fetch that hides upload instructions, so the client believes the object is stored and commits at once.
    const skipUploads: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith("/info/lfs/objects/batch")) return res;
      const body = (await res.json()) as { objects: { actions?: unknown }[] };
      for (const object of body.objects) delete object.actions;
      return new Response(JSON.stringify(body), { status: res.status, headers: { "Content-Type": "application/vnd.git-lfs+json" } });
    };
    const operations = [{ operation: "addOrUpdate" as const, path: "ghost.gguf", content: new Blob([randomBytes(4096)]) }];
    await expect(commit({ ...as(), repo, title: "ghost", operations, fetch: skipUploads })).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("LFS pointer pointed to a file that does not exist"),
    });
    expect(await head()).toBe(before);
    expect(await fileExists({ ...as(), repo, path: "ghost.gguf" })).toBe(false);
  });

  it("should refuse a commit on a stale parentCommit with 412, and accept it on the current one", async () => {
    const stale = await head();
    await uploadFile({ ...as(), repo, file: { path: "a.txt", content: new Blob(["one"]) } });
    const operations = [{ operation: "addOrUpdate" as const, path: "b.txt", content: new Blob(["two"]) }];
    await expect(commit({ ...as(), repo, title: "stale", parentCommit: stale, operations })).rejects.toMatchObject({ statusCode: 412, message: expect.stringContaining("A commit has happened since") });
    await expect(commit({ ...as(), repo, title: "fresh", parentCommit: await head(), operations })).resolves.toMatchObject({ commit: { oid: expect.any(String) } });
  });

  it("should open a pull request, take further commits on refs/pr/N, and leave main alone", async () => {
    const operations = [{ operation: "addOrUpdate" as const, path: "pr.txt", content: new Blob(["proposal"]) }];
    const opened = await commit({ ...as(), repo, title: "proposal", isPullRequest: true, operations });
    expect(opened?.pullRequestUrl).toBe(`${hub.url}/${repo}/discussions/1`);
    await commit({ ...as(), repo, title: "more", branch: "refs/pr/1", operations: [{ operation: "addOrUpdate", path: "pr2.txt", content: new Blob(["more"]) }] });
    const onPr = (await all(listFiles({ ...as(), repo, revision: "refs/pr/1" }))).map((f) => f.path);
    expect(onPr).toEqual(expect.arrayContaining(["pr.txt", "pr2.txt"]));
    expect(await fileExists({ ...as(), repo, path: "pr.txt" })).toBe(false);
    await expect(commit({ ...as(), repo, title: "x", branch: "no-such-branch", operations })).rejects.toMatchObject({ statusCode: 404 });
  });

  it("should hide private repos from others (404 with a token, 401 without), and refuse writes without the rights (403)", async () => {
    const secret = "test-user/secret";
    await createRepo({ ...as(), repo: secret, private: true });
    expect(await repoExists({ ...as(), repo: secret })).toBe(true);
    expect(await repoExists({ ...as(OTHER), repo: secret })).toBe(false);
    const withToken = await fetch(`${hub.url}/api/models/${secret}`, { headers: { Authorization: `Bearer ${OTHER}` } });
    expect([withToken.status, withToken.headers.get("X-Error-Code"), await withToken.json()]).toEqual([404, "RepoNotFound", { error: "Repository not found" }]);
    expect((await fetch(`${hub.url}/api/models/${secret}`)).status).toBe(401);
    await expect(all(listFiles({ ...as(READ), repo: secret }))).resolves.toHaveLength(1);
    await expect(uploadFile({ ...as(READ), repo, file: { path: "c.txt", content: new Blob(["no"]) } })).rejects.toMatchObject({ statusCode: 403 });
    await expect(createRepo({ ...as(READ), repo: "test-user/nope" })).rejects.toMatchObject({ statusCode: 403 });
    await expect(createRepo({ ...as(), repo: "other-user/nope" })).rejects.toMatchObject({ statusCode: 403 });
    await expect(createRepo({ ...as(), repo: "test-org/shared" })).resolves.toMatchObject({ repoUrl: `${hub.url}/test-org/shared` });
  });
});

describe("test hub: the Python huggingface_hub client", () => {
  let hub: HubServer;
  let work: string;
  const repo = "test-user/py-client";
  const model = randomBytes(400_000);

  beforeAll(async () => {
    hub = await startHub(options);
    work = await tempDir("hub-python");
    await createRepo({ hubUrl: hub.url, accessToken: WRITE, repo });
    await uploadFiles({ hubUrl: hub.url, accessToken: WRITE, repo, files: [{ path: "README.md", content: new Blob([card]) }, { path: "model.gguf", content: new Blob([model]) }] });
  });
  afterAll(() => hub.stop());

  it("should list, download, upload and read the model card with the Python client, and the JS client should see its upload", async () => {
    const local = join(work, "from-python.bin");
    const bytes = randomBytes(350_000);
    await writeFile(local, bytes);
    hub.clearRequests();
    const report = await pythonHubClient<{ whoami: string; files: string[]; tree: { path: string; lfs_sha256: string | null }[]; paths_info: string[][]; download: { sha256: string }; upload: { oid: string }; card: unknown; metadata: unknown; errors: unknown }>({
      url: hub.url,
      token: WRITE,
      home: join(work, "hf-home"),
      args: ["report", repo, "model.gguf", local, "notes/from-python.bin"],
    });
    expect(report.whoami).toBe("test-user");
    expect(report.files).toEqual([".gitattributes", "README.md", "model.gguf"]);
    expect(report.tree.find((e) => e.path === "model.gguf")?.lfs_sha256).toBe(sha256(model));
    expect(report.paths_info).toEqual([["model.gguf", "RepoFile"]]);
    expect(report.download.sha256).toBe(sha256(model));
    expect(report.card).toEqual({ license: "mit", base_model: "examples/tiny", tags: ["gguf"] });
    expect(report.metadata).toEqual(report.card);
    expect(report.errors).toEqual({ entry: "EntryNotFoundError", repo: "RepositoryNotFoundError", revision: "RevisionNotFoundError" });
    // It paged through the tree, uploaded in parts (above the threshold) and called verify, which the JS client never does.
    expect(hub.requests.some((r) => r.path.endsWith("/tree/main") && r.query.includes("cursor="))).toBe(true);
    expect(count(hub, "PUT", /^\/_lfs\/multipart\//)).toBe(3);
    expect(count(hub, "POST", /\.git\/info\/lfs\/objects\/verify$/)).toBe(1);
    const seen = await pathsInfo({ hubUrl: hub.url, accessToken: WRITE, repo, paths: ["notes/from-python.bin"] });
    expect(seen).toMatchObject([{ path: "notes/from-python.bin", lfs: { oid: sha256(bytes), size: bytes.length } }]);
    const blob = await downloadFile({ hubUrl: hub.url, accessToken: WRITE, repo, path: "notes/from-python.bin" });
    expect(sha256(new Uint8Array((await blob?.arrayBuffer()) ?? new ArrayBuffer(0)))).toBe(sha256(bytes));
    expect((await modelInfo({ hubUrl: hub.url, accessToken: WRITE, name: repo, additionalFields: ["sha"] })).sha).toBe(report.upload.oid);
  });
});

describe("test hub: llama.cpp's own -hf downloader", () => {
  let hub: HubServer;
  let work: string;
  let q8: string;
  const repo = "test-user/tiny";

  beforeAll(async () => {
    work = await tempDir("hub-llama");
    const recipe = { name: "Tiny-Llama", source: { path: tinyModel }, convert: { outtype: "f32" }, quants: [{ type: "Q8_0", imatrix: false }] };
    const run = await cli(["run", await writeRecipe(work, recipe)]);
    expect(run.exitCode, run.all).toBe(0);
    q8 = join(work, "out", "Tiny-Llama-Q8_0.gguf");
    // The Hub's real page size: llama.cpp reads only the first page of a tree.
    hub = await startHub({ tokens });
    await createRepo({ hubUrl: hub.url, accessToken: WRITE, repo });
    const files = [q8, join(work, "out", "Tiny-Llama-F32.gguf")];
    await uploadFiles({ hubUrl: hub.url, accessToken: WRITE, repo, files: await Promise.all(files.map(async (f) => ({ path: f.split("/").pop() ?? f, content: await openAsBlob(f) }))) });
  });
  afterAll(() => hub?.stop());

  it("should pick the Q8_0 file by its tag, download its exact bytes, and generate what the local file generates", async () => {
    const tc = await toolchain();
    const cache = join(work, "llama-cache");
    const args = ["-p", "The river", "-n", "8", "--temp", "0", "-no-cnv", "--no-warmup", "--simple-io", "-t", "1", "-s", "1"];
    hub.clearRequests();
    const remote = await execa(tc.tools.completion, ["-hf", `${repo}:Q8_0`, ...args], { env: { ...hubClientEnv({ url: hub.url, home: join(work, "hf-home") }), LLAMA_CACHE: cache }, stdin: "ignore", reject: false });
    expect(remote.exitCode, remote.stderr).toBe(0);
    const local = await execa(tc.tools.completion, ["-m", q8, ...args], { stdin: "ignore" });
    expect(remote.stdout.trim().length).toBeGreaterThan("The river".length);
    expect(remote.stdout.trim()).toBe(local.stdout.trim());
    const main = (await modelInfo({ hubUrl: hub.url, name: repo, additionalFields: ["sha"] })).sha;
    expect(await sha256File(join(cache, "models--test-user--tiny", "snapshots", main, "Tiny-Llama-Q8_0.gguf"))).toBe(await sha256File(q8));
    const asked = hub.requests.map((r) => `${r.method} ${r.path}${r.query ? `?${r.query}` : ""} ${r.status}`);
    expect(asked).toEqual(
      expect.arrayContaining([
        `GET /api/models/${repo}/refs 200`,
        `GET /api/models/${repo}/tree/${main}?recursive=true 200`,
        `HEAD /${repo}/resolve/${main}/Tiny-Llama-Q8_0.gguf 302`,
        `GET /${repo}/resolve/${main}/Tiny-Llama-Q8_0.gguf 302`,
      ]),
    );
    expect(asked.filter((line) => line.includes("F32"))).toEqual([]);
    expect(hub.writeRequests()).toEqual([]);
  });
});

describe("test hub: injected faults", () => {
  let hub: HubServer;
  let work: string;
  const repo = "test-user/faults";
  const as = { accessToken: WRITE, repo };

  beforeAll(async () => {
    hub = await startHub(options);
    work = await tempDir("hub-faults");
    await createRepo({ hubUrl: hub.url, ...as });
  });
  afterAll(() => hub.stop());

  it("should drop a connection mid-upload: the upload fails, nothing partial is kept, and a retry stores the file", async () => {
    const data = randomBytes(200_000);
    const drop = hub.inject({ match: { method: "PUT", pathPattern: "^/_lfs/upload/" }, kind: "drop" });
    await expect(uploadFile({ hubUrl: hub.url, ...as, file: { path: "dropped.gguf", content: new Blob([data]) } })).rejects.toThrow();
    expect(drop.hits).toBe(1);
    expect(hub.requests.find((r) => r.fault === "drop")).toMatchObject({ method: "PUT", status: 0, write: true });
    await vi.waitFor(async () => expect(await readdir(join(hub.dir, "tmp"))).toEqual([]));
    expect(existsSync(join(hub.dir, "objects", sha256(data).slice(0, 2), sha256(data)))).toBe(false);
    await uploadFile({ hubUrl: hub.url, ...as, file: { path: "dropped.gguf", content: new Blob([data]) } });
    const blob = await downloadFile({ hubUrl: hub.url, ...as, path: "dropped.gguf" });
    expect(sha256(new Uint8Array((await blob?.arrayBuffer()) ?? new ArrayBuffer(0)))).toBe(sha256(data));
  });

  it("should answer an injected 500 once and then succeed, for the JS client (retried by hand) and the Python client (on its own)", async () => {
    hub.inject({ match: { method: "POST", pathPattern: "/commit/" }, kind: "status", status: 500 });
    const file = { path: "five-hundred.txt", content: new Blob(["x"]) };
    await expect(uploadFile({ hubUrl: hub.url, ...as, file })).rejects.toMatchObject({ statusCode: 500 });
    await expect(uploadFile({ hubUrl: hub.url, ...as, file })).resolves.toMatchObject({ commit: { oid: expect.any(String) } });
    // Python retries an LFS PUT after a 500 and after a dropped connection (its http_backoff), then succeeds.
    hub.inject({ match: { method: "PUT" }, kind: "status", status: 500 });
    hub.inject({ match: { method: "PUT" }, kind: "drop" });
    const local = join(work, "python.bin");
    const bytes = randomBytes(100_000);
    await writeFile(local, bytes);
    hub.clearRequests();
    await pythonHubClient({ url: hub.url, token: WRITE, home: join(work, "hf-home"), args: ["upload", repo, local, "python.bin"] });
    expect(hub.requests.filter((r) => r.method === "PUT").map((r) => r.status)).toEqual([500, 0, 200]);
    const [entry] = await pathsInfo({ hubUrl: hub.url, ...as, paths: ["python.bin"] });
    expect(entry?.lfs?.oid).toBe(sha256(bytes));
  });

  it("should answer 429 with Retry-After, and serve the request once the client has waited", async () => {
    hub.inject({ match: { method: "GET", pathPattern: "/tree/" }, kind: "status", status: 429, retryAfter: 1 });
    const limited = await fetch(`${hub.url}/api/models/${repo}/tree/main`);
    expect([limited.status, limited.headers.get("Retry-After")]).toEqual([429, "1"]);
    await expect(all(listFiles({ hubUrl: hub.url, ...as }))).resolves.not.toHaveLength(0);
    // The Python client retries a 429 on the next page of a listing by itself.
    hub.inject({ match: { method: "GET", pathPattern: "/tree/" }, kind: "status", status: 429, retryAfter: 1, skip: 1 });
    hub.clearRequests();
    const listed = await pythonHubClient<{ files: string[] }>({ url: hub.url, token: WRITE, home: join(work, "hf-home"), args: ["list", repo] });
    expect(listed.files).toEqual(expect.arrayContaining(["dropped.gguf", "five-hundred.txt", "python.bin"]));
    expect(hub.requests.filter((r) => r.path.includes("/tree/")).map((r) => r.status)).toEqual([200, 429, 200]);
  });

  it("should count no write request for reads, and exactly the commit for a small text upload", async () => {
    hub.clearRequests();
    const read = { hubUrl: hub.url, ...as };
    await whoAmI(read);
    await all(listFiles({ ...read, recursive: true, expand: true }));
    await pathsInfo({ ...read, paths: ["python.bin"], expand: true });
    await downloadFile({ ...read, path: "python.bin" }).then((blob) => blob?.arrayBuffer());
    await fileExists({ ...read, path: "python.bin" });
    await repoExists(read);
    expect(hub.requests.length).toBeGreaterThan(6);
    expect(hub.writeRequests()).toEqual([]);
    await uploadFile({ ...read, file: { path: "note.txt", content: new Blob(["note"]) } });
    expect(hub.writeRequests().map((r) => `${r.method} ${r.path}`)).toEqual([`POST /api/models/${repo}/commit/main`]);
  });
});

describe("test hub: standalone (npm run test-hub)", () => {
  it("should print its URL as the first line, serve the token it was given, and stop cleanly on SIGTERM", async () => {
    const dir = await tempDir("hub-standalone");
    const token = `hf_${"s".repeat(34)}`;
    const server = execa("node", [join(repoRoot, "test", "hub", "dist", "bin.js"), "--port", "0", "--dir", dir, "--token", token, "--user", "alice"], { reject: false });
    const lines = createInterface({ input: server.stdout })[Symbol.asyncIterator]();
    const first = String((await lines.next()).value);
    expect(first).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(whoAmI({ hubUrl: first, accessToken: token })).resolves.toMatchObject({ name: "alice", auth: { accessToken: { role: "write" } } });
    await createRepo({ hubUrl: first, accessToken: token, repo: "alice/kept" });
    server.kill("SIGTERM");
    expect((await server).exitCode).toBe(0);
    // What it stored stays in --dir for the next start.
    expect(await readdir(join(dir, "repos", "alice"))).toEqual(["kept"]);
  });
});
