import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { gguf } from "@huggingface/gguf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadFile, listFiles, pathsInfo, repoExists, uploadFile } from "@huggingface/hub";
import type { RunReport, StageEvent, HubPublication } from "@gguf-pipeline/core";
import { PublishError, checkHubAccess, formatHubPlan, publishToHub } from "@gguf-pipeline/publish";
import type { HubSettings, PublishInput, PublishToHubParams } from "@gguf-pipeline/publish";
import { startHub } from "@gguf-pipeline/test-hub";
import type { HubServer, HubTokenInfo } from "@gguf-pipeline/test-hub";
import { readModelCard } from "@gguf-pipeline/validate";
import { cli, fixturesDir, llamaComplete, tempDir, tinyModel, toolchain, writeRecipe } from "../helpers.js";
import { hubClientEnv, sha256 } from "../hub-helpers.js";

// The write token is a sentinel: it must show up in no error, event, publication, report or card.
const TOKEN = `hf_${"Sentinel7".repeat(4)}`;
const READ = `hf_${"r".repeat(34)}`;
const tokens: Record<string, HubTokenInfo> = { [TOKEN]: { user: "test-user", role: "write", orgs: ["test-org"] }, [READ]: { user: "test-user", role: "read" } };
// Quick retries, so that a permanent failure gives up in well under a second.
const retry = { baseDelayMs: 20, maxDelayMs: 200 };
const recipe = { name: "Tiny-Llama", source: { path: tinyModel }, quants: ["Q8_0", "Q4_K_M"], evaluate: { ctx: 64, chunks: 16 } };
const quantNames = ["Tiny-Llama-F16.gguf", "Tiny-Llama-Q8_0.gguf", "Tiny-Llama-Q4_K_M.gguf"];
// What the run made: the models, and the size/quality chart the evaluate step draws.
const runFiles = [...quantNames, "Tiny-Llama-quality.svg"];

let hub: HubServer;
let work: string;
/** publish.hf as the loaded recipe has it (its defaults filled in). */
const settings = (repo: string, extra: Partial<HubSettings> = {}): HubSettings => ({ repo, private: false, branch: "main", createPr: false, ...extra });
const ollama = { name: "tiny", system: "You are tiny.", parameters: { temperature: 0.2 }, push: false, insecure: false };
let input: PublishInput;

async function fixtureInput(dir: string): Promise<PublishInput> {
  const report = JSON.parse(await readFile(join(dir, "out", "report.json"), "utf8")) as RunReport;
  const card = await readModelCard({ file: join(tinyModel, "README.md") });
  return { outDir: join(dir, "out"), report, recipeDir: dir, source: { dir: tinyModel, name: "model", card: { ...card.frontMatter, datasets: ["test-org/tiny-corpus"] } } };
}

async function publish(repo: string, extra: Partial<PublishToHubParams> = {}): Promise<{ publications: HubPublication[]; events: StageEvent[] }> {
  const events: StageEvent[] = [];
  const run = publishToHub({ ...input, settings: settings(repo), hubUrl: hub.url, accessToken: TOKEN, quantizedBy: "test-user", retry, ...extra });
  for (;;) {
    const next = await run.next();
    if (next.done) return { publications: next.value, events };
    events.push(next.value);
  }
}

async function failure(promise: Promise<unknown>): Promise<PublishError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PublishError)) throw new Error(`expected a PublishError, got ${String(error)}`);
  return error;
}

/** Commits the Hub stored for a repo (its "initial commit" included). */
const commits = async (repo: string) => (await readdir(join(hub.dir, "repos", ...repo.split("/"), "commits"))).length;
const as = (repo: string) => ({ hubUrl: hub.url, accessToken: TOKEN, repo });
const remotePaths = async (repo: string) => {
  const paths: string[] = [];
  for await (const entry of listFiles({ ...as(repo), recursive: true })) if (entry.type === "file") paths.push(entry.path);
  return paths.sort();
};
const download = async (repo: string, path: string) => new Uint8Array((await (await downloadFile({ ...as(repo), path }))?.arrayBuffer()) ?? new ArrayBuffer(0));
const remoteReport = async (repo: string) => JSON.parse(Buffer.from(await download(repo, "report.json")).toString("utf8")) as RunReport;
const puts = () => hub.requests.filter((r) => r.method === "PUT" && r.status === 200).map((r) => r.path);

beforeAll(async () => {
  hub = await startHub({ tokens, multipart: { threshold: 200_000, chunkSize: 64 * 1024 } });
  work = await tempDir("publish-hub");
  const run = await cli(["run", await writeRecipe(join(work, "a"), recipe)]);
  expect(run.exitCode, run.all).toBe(0);
  input = await fixtureInput(join(work, "a"));
});
afterAll(() => hub?.stop());

describe("publishToHub: the fixture run on the local Hub", () => {
  const repo = "test-user/tiny";

  it("should publish the run's files, card and report in one commit, each file downloading with the sha256 report.json says", async () => {
    await writeFile(join(input.outDir, "stray-Q2_K.gguf"), "not this run's");
    const { user } = await checkHubAccess({ hubUrl: hub.url, accessToken: TOKEN, repos: [repo] });
    hub.clearRequests();
    const { publications, events } = await publish(repo, { quantizedBy: user, settings: settings(repo, { baseModel: "test-org/tiny-base" }), ollama });
    expect(publications).toMatchObject([{ repo, endpoint: hub.url, branch: "main", commit: { oid: expect.stringMatching(/^[0-9a-f]{40}$/) } }]);
    expect(publications[0]?.files.every((f) => f.action === "add")).toBe(true);
    expect(await commits(repo)).toBe(2);
    expect(hub.requests.filter((r) => r.path.includes("/commit/")).length).toBe(1);
    expect(await remotePaths(repo)).toEqual([".gitattributes", "README.md", ...runFiles, "params", "report.json", "system", "template"].sort());
    const published = await remoteReport(repo);
    expect(published.artifacts.map((a) => a.path)).toEqual(runFiles);
    for (const artifact of published.artifacts) {
      expect(sha256(await download(repo, artifact.path)), artifact.path).toBe(artifact.sha256);
      expect(artifact.sha256).toBe(input.report.artifacts.find((a) => a.path === artifact.path)?.sha256);
    }
    for (const key of ["startedAt", "finishedAt", "stages", "published", "otherFiles"]) expect(published).not.toHaveProperty(key);
    // What `ollama run hf.co/…` gets: the Modelfile's own template, SYSTEM and parameters (stop strings included).
    expect(JSON.parse(Buffer.from(await download(repo, "params")).toString())).toEqual({ temperature: 0.2, stop: expect.arrayContaining(["</s>"]) as unknown });
    expect(Buffer.from(await download(repo, "template")).toString()).toMatch(/\{\{.*\.(Prompt|Messages|Content)/s);
    expect(events[0]).toMatchObject({ type: "start", stage: "publish-hf" });
    expect(events.at(-1)).toMatchObject({ type: "done", stage: "publish-hf" });
    const card = Buffer.from(await download(repo, "README.md")).toString();
    for (const [name, type] of quantNames.map((n) => [n, /-(\w+)\.gguf$/.exec(n)?.[1] ?? ""])) {
      expect(card).toContain(`| ${name} | ${type} |`);
      expect(card).toContain(`\`llama-cli -hf ${repo}:${type}\``);
    }
    for (const text of [JSON.stringify(events), JSON.stringify(publications), card, JSON.stringify(published)]) expect(text).not.toContain(TOKEN);
  });

  it("should have a model card whose front matter the Python huggingface_hub client parses, with the keys the Hub uses", async () => {
    const tc = await toolchain();
    const result = await execa(tc.python, [join(fixturesDir, "card_check.py"), repo], { env: hubClientEnv({ url: hub.url, token: TOKEN, home: join(work, "hf-home") }), reject: false });
    expect(result.exitCode, result.stderr).toBe(0);
    const checked = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}") as { data: Record<string, unknown>; metadata: unknown; body_length: number };
    expect(checked.data).toEqual({
      base_model: "test-org/tiny-base",
      base_model_relation: "quantized",
      license: "apache-2.0",
      language: ["en"],
      datasets: ["test-org/tiny-corpus"],
      tags: ["gguf", "llama.cpp", "test-fixture", "llama"],
      pipeline_tag: "text-generation",
      library_name: "gguf",
      quantized_by: "test-user",
    });
    expect(checked.metadata).toEqual(checked.data);
    expect(checked.body_length).toBeGreaterThan(500);
  });

  it("should upload nothing and make no commit when the same run is published again", async () => {
    hub.clearRequests();
    const { publications } = await publish(repo, { settings: settings(repo, { baseModel: "test-org/tiny-base" }), ollama });
    expect(publications[0]?.commit).toBeUndefined();
    expect(publications[0]?.uploadedBytes).toBe(0);
    expect(new Set(publications[0]?.files.map((f) => f.action))).toEqual(new Set(["unchanged"]));
    expect(hub.writeRequests()).toEqual([]);
    expect(await commits(repo)).toBe(2);
  });

  it("should upload only a changed quant (plus the card, report and chart naming it), in one commit", async () => {
    const repoB = "test-user/tiny-change";
    await publish(repoB);
    // The same output folder, with Q4_K_M made again differently by the real pipeline (F16 and Q8_0 are cache hits).
    const dirB = join(work, "b");
    await execa("cp", ["-a", join(work, "a"), dirB]);
    const run = await cli(["run", await writeRecipe(dirB, { ...recipe, quants: ["Q8_0", { type: "Q4_K_M", pure: true }] })]);
    expect(run.exitCode, run.all).toBe(0);
    const changed = await fixtureInput(dirB);
    const q4 = changed.report.artifacts.find((a) => a.path === "Tiny-Llama-Q4_K_M.gguf");
    expect(q4?.sha256).not.toBe(input.report.artifacts.find((a) => a.path === q4?.path)?.sha256);
    hub.clearRequests();
    const before = await commits(repoB);
    const events: StageEvent[] = [];
    const gen = publishToHub({ ...changed, settings: settings(repoB), hubUrl: hub.url, accessToken: TOKEN, retry });
    let publication: HubPublication | undefined;
    for (let next = await gen.next(); ; next = await gen.next()) {
      if (next.done) {
        publication = next.value[0];
        break;
      }
      events.push(next.value);
    }
    expect(Object.fromEntries(publication?.files.map((f) => [f.path, f.action]) ?? [])).toEqual({
      "README.md": "update",
      "Tiny-Llama-F16.gguf": "unchanged",
      "Tiny-Llama-Q4_K_M.gguf": "update",
      "Tiny-Llama-Q8_0.gguf": "unchanged",
      // The chart shows the new quant's quality: it is text, sent inline in the commit.
      "Tiny-Llama-quality.svg": "update",
      "report.json": "update",
      params: "unchanged",
      template: "unchanged",
    });
    expect(puts()).toEqual([expect.stringContaining(`/${q4?.sha256}/`)]);
    const texts = (publication?.files ?? []).filter((f) => /\.(md|json|svg)$/.test(f.path) && f.action !== "unchanged").reduce((n, f) => n + f.bytes, 0);
    expect(publication?.uploadedBytes).toBe((q4?.bytes ?? 0) + texts);
    expect(await commits(repoB)).toBe(before + 1);
    expect(sha256(await download(repoB, "Tiny-Llama-Q4_K_M.gguf"))).toBe(q4?.sha256);
    // A dry run of the same change against the first repo shows it, and writes nothing.
    hub.clearRequests();
    const dry = publishToHub({ ...changed, settings: settings(repo, { baseModel: "test-org/tiny-base" }), hubUrl: hub.url, accessToken: TOKEN, dryRun: true });
    let plan: HubPublication[] = [];
    for (let next = await dry.next(); ; next = await dry.next()) {
      if (next.done) {
        plan = next.value;
        break;
      }
    }
    expect(hub.writeRequests()).toEqual([]);
    expect(formatHubPlan(plan)).toEqual(expect.arrayContaining([expect.stringMatching(/^ {2}update {5}Tiny-Llama-Q4_K_M\.gguf +[\d.]+ KB$/), expect.stringMatching(/^ {2}unchanged {2}Tiny-Llama-Q8_0\.gguf/), "  not committed (dry run)"]));
  });

  it("should create a private repo when asked, and delete files it published before that the run no longer has in the same commit, leaving other files alone", async () => {
    const repoC = "test-user/tiny-prune";
    await publish(repoC, { settings: settings(repoC, { private: true }) });
    const info = await fetch(`${hub.url}/api/models/${repoC}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(((await info.json()) as { private?: boolean }).private).toBe(true);
    await uploadFile({ ...as(repoC), file: { path: "notes.md", content: new Blob(["someone else's file"]) } });
    const before = await commits(repoC);
    const { publications } = await publish(repoC, { settings: settings(repoC, { files: ["*-Q*.gguf"] }) });
    expect(publications[0]?.files.find((f) => f.path === "Tiny-Llama-F16.gguf")).toMatchObject({ action: "delete" });
    expect(await commits(repoC)).toBe(before + 1);
    expect(await remotePaths(repoC)).toEqual([".gitattributes", "README.md", "Tiny-Llama-Q4_K_M.gguf", "Tiny-Llama-Q8_0.gguf", "notes.md", "params", "report.json", "template"]);
  });

  it("should open a pull request with the change instead of committing to the branch, when createPr is set", async () => {
    const repoP = "test-user/tiny-pr";
    await publish(repoP);
    const main = await remoteReport(repoP);
    const { publications } = await publish(repoP, { settings: settings(repoP, { createPr: true, baseModel: "test-org/other-base" }) });
    expect(publications[0]).toMatchObject({ pullRequestUrl: `${hub.url}/${repoP}/discussions/1`, commit: { oid: expect.any(String) } });
    expect(publications[0]?.files.filter((f) => f.action !== "unchanged").map((f) => f.path)).toEqual(["README.md"]);
    expect(await remoteReport(repoP)).toEqual(main);
    const onPr = await downloadFile({ ...as(repoP), path: "README.md", revision: "refs/pr/1" });
    expect(await onPr?.text()).toContain("base_model: test-org/other-base");
  });

  it("should refuse a branch that does not exist, before uploading anything", async () => {
    hub.clearRequests();
    const error = await failure(publish(repo, { settings: settings(repo, { branch: "no-such-branch" }) }));
    expect(error.toLine()).toBe(`test-user/tiny has no branch "no-such-branch" — create the branch on the Hub first, or set publish.hf.branch to an existing one`);
    expect(error.exitCode).toBe(2);
    expect(hub.writeRequests()).toEqual([]);
  });

  it("should make no write request at all in a dry run of a new repo, and return the plan", async () => {
    hub.clearRequests();
    const { publications } = await publish("test-user/tiny-dry", { dryRun: true });
    expect(hub.writeRequests()).toEqual([]);
    expect(publications[0]?.commit).toBeUndefined();
    expect(publications[0]?.files.map((f) => f.action)).toEqual(["add", "add", "add", "add", "add", "add", "add", "add"]);
    expect(await repoExists(as("test-user/tiny-dry"))).toBe(false);
  });

  it("should split files over the per-file limit into -0000i-of-0000N parts that llama.cpp loads as the whole model", async () => {
    const repoS = "test-user/tiny-split";
    const tc = await toolchain();
    const { publications } = await publish(repoS, { maxFileBytes: 120_000, toolchain: tc });
    const names = publications[0]?.files.map((f) => f.path) ?? [];
    const f16Parts = names.filter((n) => /^Tiny-Llama-F16-\d{5}-of-\d{5}\.gguf$/.test(n));
    expect(f16Parts.length).toBeGreaterThan(1);
    expect(names.filter((n) => /^Tiny-Llama-Q8_0-\d{5}-of-\d{5}\.gguf$/.test(n)).length).toBeGreaterThan(1);
    expect(names).toContain("Tiny-Llama-Q4_K_M.gguf");
    expect(names).not.toContain("Tiny-Llama-F16.gguf");
    const published = await remoteReport(repoS);
    const parts = join(work, "split-download");
    await mkdir(parts, { recursive: true });
    for (const artifact of published.artifacts) {
      const bytes = await download(repoS, artifact.path);
      expect(bytes.byteLength).toBeLessThanOrEqual(120_000);
      expect(sha256(bytes)).toBe(artifact.sha256);
      await writeFile(join(parts, artifact.path), bytes);
    }
    const first = f16Parts[0] ?? "";
    const { metadata } = await gguf(join(parts, first), { allowLocalFile: true });
    expect((metadata as Record<string, unknown>)["split.count"]).toBe(f16Parts.length);
    const prompt = { prompt: "The river", tokens: 8 };
    expect(await llamaComplete({ gguf: join(parts, first), ...prompt })).toBe(await llamaComplete({ gguf: join(input.outDir, "Tiny-Llama-F16.gguf"), ...prompt }));
    expect(Buffer.from(await download(repoS, "README.md")).toString()).toContain(`| ${first} (${f16Parts.length} parts) | F16 |`);
    // Published again: the parts are reused, byte for byte, and nothing is committed.
    hub.clearRequests();
    const again = await publish(repoS, { maxFileBytes: 120_000, toolchain: tc });
    expect(again.publications[0]?.commit).toBeUndefined();
    expect(hub.writeRequests()).toEqual([]);
  });
});

describe("publishToHub: faults on the way", () => {
  const lfsPut = { method: "PUT", pathPattern: "^/_lfs/" };

  it("should retry an upload whose connection dropped midway, and finish in one commit", async () => {
    const repo = "test-user/fault-drop";
    hub.clearRequests();
    const drop = hub.inject({ match: lfsPut, kind: "drop" });
    const { publications, events } = await publish(repo);
    expect(drop.hits).toBe(1);
    const dropped = hub.requests.find((r) => r.fault === "drop");
    expect(dropped).toMatchObject({ method: "PUT", status: 0 });
    expect(hub.requests.filter((r) => r.path === dropped?.path).map((r) => r.status)).toEqual([0, 200]);
    expect(events.some((e) => e.type === "log" && e.level === "warn" && /connection failed.*retrying/.test(e.message))).toBe(true);
    expect(publications[0]?.commit).toBeDefined();
    expect(await commits(repo)).toBe(2);
    const info = await pathsInfo({ ...as(repo), paths: quantNames });
    expect(info.map((f) => f.lfs?.oid)).toEqual(quantNames.map((n) => input.report.artifacts.find((a) => a.path === n)?.sha256));
  });

  it("should retry a 500 from the storage and from the commit, and commit once", async () => {
    const repo = "test-user/fault-500";
    hub.clearRequests();
    hub.inject({ match: lfsPut, kind: "status", status: 500 });
    hub.inject({ match: { method: "POST", pathPattern: "/commit/" }, kind: "status", status: 500 });
    const { publications } = await publish(repo);
    expect(hub.requests.filter((r) => r.path.includes("/commit/")).map((r) => r.status)).toEqual([500, 200]);
    expect(hub.requests.filter((r) => r.method === "PUT").map((r) => r.status)).toContain(500);
    expect(publications[0]?.commit).toBeDefined();
    expect(await commits(repo)).toBe(2);
  });

  it("should wait as long as a 429's Retry-After asks, then go on", async () => {
    const repo = "test-user/fault-429";
    hub.inject({ match: { method: "POST", pathPattern: "\\.git/info/lfs/objects/batch$" }, kind: "status", status: 429, retryAfter: 1 });
    const started = Date.now();
    const { publications, events } = await publish(repo);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(events.some((e) => e.type === "log" && e.level === "warn" && e.message.includes("HTTP 429, Retry-After 1; retrying in 1.0 s"))).toBe(true);
    expect(publications[0]?.commit).toBeDefined();
  });

  it("should not commit twice when a commit landed but its answer was lost", async () => {
    const repo = "test-user/fault-lost-answer";
    let lost = false;
    // The network between us and the Hub: the first commit goes through, then its answer never arrives.
    const losing: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!lost && init?.method === "POST" && String(input).includes("/commit/main")) {
        lost = true;
        throw new TypeError("fetch failed", { cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) });
      }
      return response;
    };
    hub.clearRequests();
    const { publications, events } = await publish(repo, { fetch: losing });
    expect(hub.requests.filter((r) => r.path.includes("/commit/")).map((r) => r.status)).toEqual([200, 412]);
    expect(await commits(repo)).toBe(2);
    const head = ((await (await fetch(`${hub.url}/api/models/${repo}`)).json()) as { sha: string }).sha;
    expect(publications[0]?.commit?.oid).toBe(head);
    expect(events.some((e) => e.type === "log" && e.message.includes("the branch already holds these files"))).toBe(true);
  });

  it("should plan again on the new head when another writer committed meanwhile, keeping that writer's file", async () => {
    const repo = "test-user/fault-race";
    let raced = false;
    const racing: typeof fetch = async (input, init) => {
      if (!raced && init?.method === "POST" && String(input).includes("/commit/main")) {
        raced = true;
        await uploadFile({ ...as(repo), file: { path: "concurrent.txt", content: new Blob(["another writer"]) } });
      }
      return fetch(input, init);
    };
    hub.clearRequests();
    const { publications, events } = await publish(repo, { fetch: racing });
    expect(hub.requests.filter((r) => r.path.includes("/commit/")).map((r) => r.status)).toEqual([200, 412, 200]);
    expect(events.some((e) => e.type === "log" && e.level === "warn" && e.message.includes("moved while publishing; planning again"))).toBe(true);
    expect(publications[0]?.commit).toBeDefined();
    expect(await remotePaths(repo)).toEqual(expect.arrayContaining(["concurrent.txt", ...quantNames]));
    expect(await commits(repo)).toBe(3);
  });

  it("should fail for good naming the file and leave no commit, and the re-run should finish the job", async () => {
    const repo = "test-user/fault-permanent";
    const q8 = input.report.artifacts.find((a) => a.path === "Tiny-Llama-Q8_0.gguf");
    const broken = hub.inject({ match: { method: "PUT", pathPattern: `/${q8?.sha256}/` }, kind: "status", status: 500, times: Infinity });
    const error = await failure(publish(repo));
    expect(error.exitCode).toBe(1);
    expect(error.file).toBe("Tiny-Llama-Q8_0.gguf");
    expect(error.toLine()).toMatch(/^Tiny-Llama-Q8_0\.gguf: uploading to test-user\/fault-permanent failed after 6 attempts: HTTP 500 — nothing was committed/);
    expect(error.toLine()).not.toContain(TOKEN);
    expect(broken.hits).toBe(6);
    expect(await commits(repo)).toBe(1);
    broken.remove();
    hub.clearRequests();
    const { publications } = await publish(repo);
    expect(publications[0]?.commit).toBeDefined();
    expect(puts()).toEqual([expect.stringContaining(`/${q8?.sha256}/`)]);
    expect(await commits(repo)).toBe(2);
  });
});

describe("checkHubAccess: the token, before any work", () => {
  const repo = "test-user/tiny-tokens";
  const check = (accessToken: string | undefined, repos = [repo]) => failure(checkHubAccess({ hubUrl: hub.url, accessToken, repos, retry }));

  it("should refuse a missing, malformed, wrong or read-only token, or a namespace it may not write, with one line each and nothing written", async () => {
    hub.clearRequests();
    const cases: [string | undefined, RegExp, string[]?][] = [
      [undefined, /^HF_TOKEN is not set: .* — set HF_TOKEN to a write token from http:\/\/127\.0\.0\.1:\d+\/settings\/tokens$/],
      ["", /^HF_TOKEN is not set/],
      [`${TOKEN}\n`, /^HF_TOKEN has spaces or a line break around it/],
      [TOKEN.slice(3), /^HF_TOKEN is not a Hugging Face token: those start with "hf_"/],
      ["hf_short", /^HF_TOKEN is malformed/],
      [`hf_${"x".repeat(34)}`, /^HF_TOKEN was not accepted by http:\/\/127\.0\.0\.1:\d+ \(401: Invalid credentials in Authorization header\) — the token is wrong, expired or revoked/],
      [READ, /^HF_TOKEN is read-only \(user test-user, role "read"\)/],
      [TOKEN, /^HF_TOKEN belongs to test-user, who may not write to other-user\/ \(repo other-user\/tiny\) — publish to test-user\/… or to an organization of test-user \(test-org\)/, ["other-user/tiny"]],
    ];
    for (const [token, line, repos] of cases) {
      const error = await check(token, repos);
      expect(error.exitCode, String(line)).toBe(2);
      expect(error.toLine()).toMatch(line);
      expect(error.toLine()).not.toContain("\n");
      expect(error.toLine()).not.toContain(TOKEN.slice(3));
    }
    await expect(checkHubAccess({ hubUrl: hub.url, accessToken: TOKEN, repos: [repo, "test-org/tiny"] })).resolves.toEqual({ user: "test-user" });
    expect(hub.writeRequests()).toEqual([]);
  });

  it("should refuse to publish with a read-only token even when the check was skipped, and write nothing", async () => {
    hub.clearRequests();
    const error = await failure(publish(repo, { accessToken: READ }));
    expect(error.exitCode).toBe(2);
    expect(hub.writeRequests().filter((r) => r.status === 200)).toEqual([]);
    expect(await repoExists(as(repo))).toBe(false);
  });
});
