import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunReport } from "@gguf-pipeline/core";
import { DEFAULT_READ_TOKEN, DEFAULT_WRITE_TOKEN, startHub, type HubServer } from "@gguf-pipeline/test-hub";
import { cli, jsonEvents, listTree, tempDir, tinyModel, writeRecipe } from "../helpers.js";
import { sha256File } from "../hub-helpers.js";

// `pipeline run` publishing at its end and `pipeline publish` on a finished run, as a user runs them, against the local Hub.
describe("publish to the Hub through the CLI", () => {
  let hub: HubServer;
  let work: string;
  let recipe: string;
  let first: Awaited<ReturnType<typeof cli>>;
  const repo = "test-user/tiny-cli";
  const env = () => ({ HF_ENDPOINT: hub.url, HF_TOKEN: DEFAULT_WRITE_TOKEN });
  const commits = async () => (await readdir(join(hub.dir, "repos", ...repo.split("/"), "commits"))).length;

  beforeAll(async () => {
    hub = await startHub();
    work = await tempDir("publish-cli");
    recipe = await writeRecipe(work, { name: "Tiny-Llama", source: { path: tinyModel }, convert: { outtype: "f32" }, quants: ["Q8_0"], publish: { hf: { repo } } });
    first = await cli(["run", recipe, "--json"], { env: env() });
  });
  afterAll(() => hub.stop());

  it("should publish at the end of the run, in one commit, and record it in report.json without the token", async () => {
    expect(first.exitCode, first.all).toBe(0);
    expect(await commits()).toBe(2); // the repo's initial commit, and ours
    const report = JSON.parse(await readFile(join(work, "out", "report.json"), "utf8")) as RunReport;
    expect(report.published?.hf).toMatchObject([{ repo, endpoint: hub.url, branch: "main", commit: { oid: expect.stringMatching(/^[0-9a-f]{40}$/) as unknown } }]);
    const files = report.published?.hf?.[0]?.files ?? [];
    for (const artifact of report.artifacts.filter((a) => a.path.endsWith(".gguf"))) {
      expect(files.find((f) => f.path === artifact.path), artifact.path).toMatchObject({ action: "add", sha256: artifact.sha256 });
      // What the Hub serves is what was made.
      const served = await fetch(`${hub.url}/${repo}/resolve/main/${artifact.path}`);
      expect(served.status).toBe(200);
      expect(Buffer.from(await served.arrayBuffer()).length).toBe((await stat(join(work, "out", artifact.path))).size);
      expect(await sha256File(join(work, "out", artifact.path))).toBe(artifact.sha256);
    }
    const all = `${first.all}${await readFile(join(work, "out", "report.json"), "utf8")}${await (await fetch(`${hub.url}/${repo}/resolve/main/README.md`)).text()}`;
    expect(all).not.toContain(DEFAULT_WRITE_TOKEN);
    expect(jsonEvents(first.stdout).filter((e) => e.stage === "publish-hf" && e.type === "done")).toEqual([expect.objectContaining({ cached: false })]);
  });

  it("should make no commit and upload nothing when an unchanged run is run and published again", async () => {
    const before = hub.writeRequests().length;
    const again = await cli(["run", recipe, "--json"], { env: env() });
    expect(again.exitCode, again.all).toBe(0);
    const published = await cli(["publish", recipe], { env: env() });
    expect(published.exitCode, published.all).toBe(0);
    expect(published.stdout).toMatch(/up to date: no commit/);
    expect(hub.writeRequests().length).toBe(before);
    expect(await commits()).toBe(2);
  });

  it("should print the plan of a dry run and make no write request", async () => {
    const other = await writeRecipe(work, { name: "Tiny-Llama", source: { path: tinyModel }, convert: { outtype: "f32" }, quants: ["Q8_0"], publish: { hf: { repo: "test-user/not-yet" } } }, "other.json");
    const before = hub.writeRequests().length;
    const dry = await cli(["publish", other, "--dry-run"], { env: env() });
    expect(dry.exitCode, dry.all).toBe(0);
    expect(dry.stdout).toMatch(/^ {2}add +Tiny-Llama-Q8_0\.gguf +\d+ KB$/m);
    expect(dry.stdout).toMatch(/not committed \(dry run\)/);
    expect(hub.writeRequests().length).toBe(before);
  });

  it("should refuse a missing, malformed, wrong or read-only token with one line and exit 2, before any work", async () => {
    const fresh = await tempDir("publish-token");
    const file = await writeRecipe(fresh, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, publish: { hf: { repo } } });
    const cases: [Record<string, string>, RegExp][] = [
      [{ HF_ENDPOINT: hub.url }, /^error: HF_TOKEN is not set/],
      [{ HF_ENDPOINT: hub.url, HF_TOKEN: "not-a-token-sentinel-12345" }, /^error: .*HF_TOKEN/],
      [{ HF_ENDPOINT: hub.url, HF_TOKEN: "hf_wrongtokensentinel0000000000000" }, /^error: HF_TOKEN was not accepted/],
      [{ HF_ENDPOINT: hub.url, HF_TOKEN: DEFAULT_READ_TOKEN }, /^error: .*(read|write)/],
    ];
    for (const [environment, line] of cases) {
      const result = await cli(["run", file], { env: environment });
      expect(result.exitCode, result.all).toBe(2);
      expect(result.stderr.trim().split("\n"), result.stderr).toHaveLength(1);
      expect(result.stderr.trim()).toMatch(line);
      for (const token of [environment.HF_TOKEN].filter(Boolean)) expect(result.all).not.toContain(token);
    }
    expect(await listTree(join(fresh, "out"))).toEqual(["<missing>"]);
  });

  it("should not publish a run whose validation failed", async () => {
    const bad = await tempDir("publish-invalid");
    // A context length of 0 makes the context length check fail (see check.e2e.ts); the quant carries it too.
    const file = await writeRecipe(bad, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, quants: [{ type: "Q8_0", overrideKv: ["llama.context_length=int:0"] }], validate: { smoke: "none" }, publish: { hf: { repo: "test-user/invalid" } } });
    const result = await cli(["run", file, "--json"], { env: env() });
    expect(result.exitCode, result.all).toBe(1);
    expect(jsonEvents(result.stdout).find((e) => e.stage === "publish-hf" && e.type === "done")).toMatchObject({ title: expect.stringMatching(/^Not published: 1 validation check\(s\) failed/) as unknown });
    const publish = await cli(["publish", file], { env: env() });
    expect(publish.exitCode).toBe(1);
    expect(publish.stderr).toMatch(/^error: .*report\.json: the run did not pass validation \(Tiny-Q8_0\.gguf: context length\): nothing is published/m);
    expect((await fetch(`${hub.url}/api/models/test-user/invalid`, { headers: { authorization: `Bearer ${DEFAULT_WRITE_TOKEN}` } })).status).toBe(404);
  });
});
