import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunReport } from "@gguf-pipeline/core";
import { cacheLayout, readPin } from "@gguf-pipeline/native";
import { defaultCalibrationText, defaultEvaluationText } from "@gguf-pipeline/quantize";
import { DEFAULT_WRITE_TOKEN, startHub, type HubServer } from "@gguf-pipeline/test-hub";
import { repoRoot, tempDir, tinyModel } from "../helpers.js";
import {
  changesetStatusBase,
  installTarballs,
  packPackages,
  pnpmCommand,
  publicPackages,
  readmeExample,
  readWorkflow,
  runWorkflowJob,
  workflowFiles,
  type PublicPackage,
  type SimulatedRun,
} from "../release-helpers.js";
import { actionlint } from "../servers/actionlint.js";

const readJson = async <T>(file: string) => JSON.parse(await readFile(file, "utf8")) as T;

describe("the workflows", () => {
  it("should pass actionlint: this repo's CI and release workflows and the examples model authors copy", async () => {
    const files = await workflowFiles();
    expect(files.map((f) => relative(repoRoot, f))).toEqual(
      expect.arrayContaining([".github/workflows/ci.yml", ".github/workflows/release.yml", "examples/github-actions/model-release.yml", "examples/github-actions/model-release-matrix.yml"]),
    );
    const result = await actionlint({ files, cwd: repoRoot });
    expect(result.output).toBe("");
    expect(result.ok).toBe(true);
  });

  it.each([
    { what: "an output the plan job does not have", from: "fromJSON(needs.plan.outputs.quants)", to: "fromJSON(needs.plan.outputs.quant)", at: "fromJSON(needs.plan.outputs.quant)", problem: /property "quant" is not defined in object type \{.*\} \[expression\]/ },
    { what: "a job that does not exist", from: "needs: [plan, convert, quant]", to: "needs: [plan, convert, quants]", at: "  gather:", problem: /job "gather" needs job "quants" which does not exist in this workflow \[job-needs\]/ },
  ])("should fail on a broken copy of the matrix workflow ($what), naming the file, the line and the problem", async ({ from, to, at, problem }) => {
    const text = await readFile(join(repoRoot, "examples", "github-actions", "model-release-matrix.yml"), "utf8");
    expect(text).toContain(from);
    const broken = text.replace(from, to);
    const line = broken.split("\n").findIndex((l) => l.includes(at)) + 1;
    const file = join(await tempDir("actionlint"), "model-release-matrix.yml");
    await writeFile(file, broken);
    const result = await actionlint({ files: [file] });
    expect(result.ok).toBe(false);
    expect(result.output.split("\n")).toEqual([expect.stringMatching(new RegExp(`model-release-matrix\\.yml:${line}:\\d+: ${problem.source}`))]);
  });
});

describe("the published packages", () => {
  let packages: PublicPackage[];
  beforeAll(async () => {
    packages = await publicPackages();
  });

  it("should all have one manifest shape, a README and a CHANGELOG", async () => {
    expect(packages.map((p) => p.name).sort()).toEqual(["cli", "convert", "core", "merge", "native", "publish", "quantize", "validate"].map((n) => `@gguf-pipeline/${n}`));
    const repository = packages[0]?.manifest.repository?.url;
    expect(repository).toMatch(/^git\+https:\/\/github\.com\/[^/]+\/[^/]+\.git$/);
    for (const { name, dir, manifest } of packages) {
      expect(manifest, name).toMatchObject({ type: "module", license: "MIT", engines: { node: ">=20.19" }, publishConfig: { access: "public" }, repository: { type: "git", url: repository, directory: relative(repoRoot, dir) } });
      expect(Object.keys((manifest.exports?.["."] ?? {}) as object)[0], `${name}: exports "." lists types first`).toBe("types");
      expect(manifest.files, name).toEqual(expect.arrayContaining(["dist", "CHANGELOG.md"]));
      for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) if (dep.startsWith("@gguf-pipeline/")) expect(range, `${name} → ${dep}`).toBe("workspace:^");
      expect(await readFile(join(dir, "README.md"), "utf8"), name).toMatch(new RegExp(`^# ${name.replace("/", "\\/")}\\n`));
      expect(await readFile(join(dir, "CHANGELOG.md"), "utf8"), name).toMatch(new RegExp(`^# ${name.replace("/", "\\/")}\\n\\n## 0\\.1\\.0\\n`));
    }
    expect(packages.find((p) => p.name === "@gguf-pipeline/cli")?.manifest.bin).toEqual({ pipeline: "./dist/bin.js" });
  });
});

describe("installed from packed tarballs into a project outside the repo", () => {
  let work: string;
  let project: string;
  let tarballs: string[];
  let packages: PublicPackage[];
  const npx = (args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) =>
    execa("npx", ["pipeline", ...args], { cwd: options.cwd ?? project, reject: false, all: true, env: { CI: "1", ...options.env } });
  const node = (script: string, cwd = project) => execa("node", [script], { cwd, reject: false, all: true, env: { CI: "1" } });

  beforeAll(async () => {
    work = await tempDir("release");
    packages = await publicPackages();
    tarballs = await packPackages({ packages, dest: join(work, "tarballs") });
    project = join(work, "project");
    await installTarballs({ dir: project, tarballs });
    // The example as a user would copy it: recipe.json beside its model folder, the schema from the installed package.
    const recipe = await readJson<Record<string, unknown>>(join(repoRoot, "examples", "tiny", "recipe.json"));
    await writeFile(join(project, "recipe.json"), `${JSON.stringify({ ...recipe, $schema: "./node_modules/@gguf-pipeline/core/recipe.schema.json" }, null, 2)}\n`);
    await cp(tinyModel, join(project, "model"), { recursive: true });
  });

  it("should have packed the files each package reads at run time, with its versions instead of workspace:^", async () => {
    const list = async (name: string) => (await execa("tar", ["-tzf", tarballs[packages.findIndex((p) => p.name === name)] ?? ""])).stdout.split("\n");
    expect(await list("@gguf-pipeline/native")).toEqual(expect.arrayContaining(["package/pin.json", "package/requirements.txt", "package/go-tools.json", "package/patches/flush-log-at-exit.patch", "package/dist/index.js", "package/dist/index.d.ts", "package/README.md", "package/CHANGELOG.md"]));
    expect(await list("@gguf-pipeline/core")).toEqual(expect.arrayContaining(["package/recipe.schema.json", "package/dist/index.d.ts"]));
    // The texts quantize reads at run time, by the names its own code uses.
    expect(await list("@gguf-pipeline/quantize")).toEqual(expect.arrayContaining([defaultCalibrationText, defaultEvaluationText].map((f) => `package/calibration/${basename(f)}`)));
    const cli = await readJson<{ dependencies: Record<string, string> }>(join(project, "node_modules", "@gguf-pipeline", "cli", "package.json"));
    const version = (name: string) => packages.find((p) => p.name === name)?.manifest.version ?? "";
    for (const [dep, range] of Object.entries(cli.dependencies)) if (dep.startsWith("@gguf-pipeline/")) expect(range).toBe(`^${version(dep)}`);
    expect(relative(repoRoot, project).startsWith("..")).toBe(true);
  });

  it("should run `pipeline --help` and `pipeline --version` (the package version and the pinned llama.cpp commit)", async () => {
    const help = await npx(["--help"]);
    expect(help.exitCode, help.all).toBe(0);
    expect(help.stdout).toMatch(/^usage: pipeline <command> \[options\]/);
    const version = await npx(["--version"]);
    expect(version.exitCode, version.all).toBe(0);
    const cli = packages.find((p) => p.name === "@gguf-pipeline/cli")?.manifest.version ?? "";
    expect(version.stdout.trim()).toBe(`pipeline ${cli} (llama.cpp ${readPin().source.llamaCppCommit})`);
  });

  it("should find the toolchain this clone built (same pin, same cache keys) with `pipeline doctor`", async () => {
    const doctor = await npx(["doctor"]);
    expect(doctor.exitCode, doctor.all).toBe(0);
    const layout = cacheLayout();
    expect(doctor.stdout).toContain(`${layout.buildDir}/bin`);
    expect(doctor.stdout).toContain(layout.venvDir);
    expect(doctor.stdout).toMatch(/everything is in place\s*$/);
    // The installed native package reads its pin from its own folder, not from this repo.
    const where = await execa("node", ["--input-type=module", "-e", 'import("@gguf-pipeline/native").then((m) => console.log(m.nativeDir))'], { cwd: project });
    expect(where.stdout.trim()).toBe(`${join(project, "node_modules", "@gguf-pipeline", "native")}/`);
  });

  it("should run a copy of the example recipe: exit 0, the ladder made, measured and validated, the publish written locally", async () => {
    const run = await npx(["run", "recipe.json"]);
    expect(run.exitCode, run.all).toBe(0);
    expect(existsSync(join(project, "out", "Tiny-Llama-F32.gguf"))).toBe(true);
    const report = await readJson<RunReport>(join(project, "out", "report.json"));
    expect(report.artifacts.map((a) => a.path)).toEqual(["Tiny-Llama-F32.gguf", "Tiny-Llama.imatrix.gguf", "Tiny-Llama-Q8_0.gguf", "Tiny-Llama-Q4_K_M.gguf", "Tiny-Llama-IQ4_XS.gguf", "Tiny-Llama-quality.svg"]);
    // What would be published, with no account and no server: the Hub commit as files, the Ollama Modelfiles.
    expect(existsSync(join(project, "out", "hub", "your-name", "Tiny-Llama-GGUF", "README.md"))).toBe(true);
    expect(existsSync(join(project, "out", "ollama", "q4_k_m", "Modelfile"))).toBe(true);
    expect(run.stdout).toMatch(/^made in out\/:$/m);
    expect(run.stdout).toMatch(/^ {2}hub {6}hub\/your-name\/Tiny-Llama-GGUF\/ — README\.md \(the model card\)/m);
    expect(report.tools.pipeline).toBe(packages.find((p) => p.name === "@gguf-pipeline/cli")?.manifest.version);
    expect(Object.values(report.validation?.files ?? {}).every((f) => f.ok)).toBe(true);
  });

  it("should import every library package, and run the CLI's and validate's README examples", async () => {
    const names = packages.map((p) => p.name);
    const imports = await execa("node", ["--input-type=module", "-e", `for (const n of ${JSON.stringify(names)}) console.log(n, Object.keys(await import(n)).length)`], { cwd: project, reject: false, all: true });
    expect(imports.exitCode, imports.all).toBe(0);
    for (const name of names) expect(imports.stdout).toMatch(new RegExp(`^${name} [1-9]\\d*$`, "m"));

    await writeFile(join(project, "cli-example.mjs"), await readmeExample(join(repoRoot, "packages", "cli", "README.md")));
    const cli = await node("cli-example.mjs");
    expect(cli.exitCode, cli.all).toBe(0);
    expect(cli.stdout).toMatch(/^convert: Tiny-Llama-F32\.gguf /m);
    expect(cli.stdout).toMatch(/^6 file\(s\); report: .*out\/report\.json$/m);

    await writeFile(join(project, "validate-example.mjs"), await readmeExample(join(repoRoot, "packages", "validate", "README.md")));
    const validate = await node("validate-example.mjs");
    expect(validate.exitCode, validate.all).toBe(0);
    expect(validate.stdout).toMatch(/^ok {3}\S/m);
    expect(validate.stdout).not.toMatch(/^FAIL/m);
    expect(validate.stdout).toMatch(/^smoke test passed - /m);
  });

  it("should run quantize's README example in a project that has only core, native and quantize (no CLI)", async () => {
    const lib = join(work, "library-only");
    await installTarballs({ dir: lib, tarballs: ["core", "native", "quantize"].map((n) => tarballs[packages.findIndex((p) => p.name === `@gguf-pipeline/${n}`)] ?? "") });
    expect(existsSync(join(lib, "node_modules", "@gguf-pipeline", "cli"))).toBe(false);
    await mkdir(join(lib, "out"));
    await cp(join(project, "out", "Tiny-Llama-F32.gguf"), join(lib, "out", "Tiny-Llama-F32.gguf"));
    await writeFile(join(lib, "example.mjs"), await readmeExample(join(repoRoot, "packages", "quantize", "README.md")));
    const run = await node("example.mjs", lib);
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toMatch(/^quantize:Q4_K_M: \S+\.weight \d+%$/m);
    expect(run.stdout).toMatch(/^Q8_0 Tiny-Llama-Q8_0\.gguf \d+(\.\d+)? bpw$/m);
    expect(run.stdout).toMatch(/^Q4_K_M Tiny-Llama-Q4_K_M\.gguf \d+(\.\d+)? bpw$/m);
  });

  // The examples' own steps, run in order with the installed CLI: the jobs' shell scripts exactly as written, artifacts
  // carried as folder copies (new mtimes, as downloads give), publishing to the local Hub. jq is what the examples use
  // to read `--json` output; GitHub's runners have it.
  describe.skipIf(spawnSync("jq", ["--version"]).status !== 0)("the example workflows, step by step (needs jq)", () => {
    let hub: HubServer;
    const repo = "test-user/tiny-release";
    const recipe = { name: "Tiny", source: { path: "model" }, convert: { outtype: "f32" }, quants: ["Q8_0", "Q4_K_M", { type: "Q2_K", imatrix: false }], imatrix: { ctx: 64, chunks: 16 }, evaluate: { ctx: 64, chunks: 16 }, publish: { hf: { repo } } };
    const simulation = (root: string): SimulatedRun => ({
      root,
      github: { ref: "refs/tags/v1.0.0", refName: "v1.0.0" },
      secrets: { HF_TOKEN: DEFAULT_WRITE_TOKEN },
      env: { HF_ENDPOINT: hub.url },
      // The model repository: recipe.json and the model; node_modules as "Install the pipeline" leaves it.
      checkout: async (workspace) => {
        await writeFile(join(workspace, "recipe.json"), `${JSON.stringify(recipe, null, 2)}\n`);
        await symlink(join(project, "model"), join(workspace, "model"));
        await symlink(join(project, "node_modules"), join(workspace, "node_modules"));
      },
    });
    let single: RunReport;

    beforeAll(async () => {
      hub = await startHub();
    });
    afterAll(() => hub.stop());

    it("model-release.yml: the ladder in one job, the table in the job summary, the GGUFs uploaded, one commit to the Hub", async () => {
      const workflow = await readWorkflow(join(repoRoot, "examples", "github-actions", "model-release.yml"));
      const run = simulation(join(work, "single"));
      const job = await runWorkflowJob({ workflow, job: "release", run });
      expect(job.steps.filter((s) => s.result === "ran").map((s) => s.name)).toEqual(["Install the pipeline", "Cache keys", "Toolchain", "Plan", "Run", "Quant table", "Publish to the Hugging Face Hub"]);
      single = await readJson<RunReport>(join(job.workspace, "out", "report.json"));
      expect(single.artifacts.map((a) => a.path)).toEqual(expect.arrayContaining(["Tiny-F32.gguf", "Tiny.imatrix.gguf", "Tiny-Q8_0.gguf", "Tiny-Q4_K_M.gguf", "Tiny-Q2_K.gguf"]));
      // `pipeline report out` inside a code block: the table's header, then a row per file.
      expect(job.summary).toMatch(/^## GGUF files \(v1\.0\.0\)\n\n```\nfile +type +size /);
      for (const type of ["F32", "Q8_0", "Q4_K_M", "Q2_K"]) expect(job.summary).toMatch(new RegExp(`^Tiny-${type}\\.gguf +${type} `, "m"));
      // The --json events went whole into pipeline-events.jsonl, and into the artifact with every GGUF and report.json.
      const stored = await readdir(join(run.root, "artifacts", "gguf-v1.0.0"), { recursive: true });
      expect(stored).toEqual(expect.arrayContaining(["pipeline-events.jsonl", "out/report.json", ...single.artifacts.map((a) => `out/${a.path}`)]));
      expect(stored.some((f) => f.includes(".pipeline"))).toBe(false);
      const events = (await readFile(join(job.workspace, "pipeline-events.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { type: string });
      expect(events.at(-1)?.type).toBe("report");
      const published = (await readJson<RunReport>(join(job.workspace, "out", "report.json"))).published?.hf?.[0];
      expect(published).toMatchObject({ repo, commit: { oid: expect.stringMatching(/^[0-9a-f]{40}$/) as unknown } });
    });

    it("model-release-matrix.yml: plan → convert → imatrix → a job per quant → gather → publish gives the same bytes (the Hub gets no new commit)", async () => {
      const workflow = await readWorkflow(join(repoRoot, "examples", "github-actions", "model-release-matrix.yml"));
      const run = simulation(join(work, "matrix"));
      const plan = await runWorkflowJob({ workflow, job: "plan", run });
      expect(plan.outputs).toEqual({ imatrix: "true", count: "3", quants: expect.any(String) as unknown });
      const matrix = JSON.parse(plan.outputs.quants ?? "") as { include: { part: string; needs: string[] }[] };
      expect(matrix.include).toEqual([
        { part: "Q8_0", needs: ["convert", "imatrix"] },
        { part: "Q4_K_M", needs: ["convert", "imatrix"] },
        { part: "Q2_K", needs: ["convert"] },
      ]);
      await runWorkflowJob({ workflow, job: "convert", run });
      await runWorkflowJob({ workflow, job: "imatrix", run });
      for (const entry of matrix.include) await runWorkflowJob({ workflow, job: "quant", run, matrix: entry, label: `quant-${entry.part}` });
      // Each part stored only what it made: the intermediate travels once.
      const stored = async (name: string) => (await readdir(join(run.root, "artifacts", name))).filter((f) => f.endsWith(".gguf")).sort();
      expect(await stored("part-convert")).toEqual(["Tiny-F32.gguf"]);
      expect(await stored("part-imatrix")).toEqual(["Tiny.imatrix.gguf"]);
      expect(await stored("part-Q4_K_M")).toEqual(["Tiny-Q4_K_M.gguf"]);
      expect(await stored("part-Q2_K")).toEqual(["Tiny-Q2_K.gguf"]);

      const gather = await runWorkflowJob({ workflow, job: "gather", run });
      const gathered = await readJson<RunReport>(join(gather.workspace, "out", "report.json"));
      expect(gathered.artifacts.map((a) => [a.path, a.sha256])).toEqual(single.artifacts.map((a) => [a.path, a.sha256]));
      expect(gather.summary).toContain("Tiny-Q2_K.gguf");

      const publish = await runWorkflowJob({ workflow, job: "publish", run });
      const published = (await readJson<RunReport>(join(publish.workspace, "out", "report.json"))).published?.hf?.[0];
      expect(published?.repo).toBe(repo);
      // The single job published the same files to the same repo before: nothing to upload.
      for (const file of published?.files.filter((f) => f.path.endsWith(".gguf")) ?? []) expect(file, file.path).toMatchObject({ action: "unchanged" });
      expect(published?.uploadedBytes).toBe(0);
    });
  });
});

describe("changesets", () => {
  it("should pass `changeset status` and bump every published package (and no private one)", async () => {
    const { args } = await changesetStatusBase();
    const out = join(await tempDir("changeset"), "status.json");
    const status = await execa(await pnpmCommand(), ["exec", "changeset", "status", ...args, `--output=${out}`], { cwd: repoRoot, reject: false, all: true });
    expect(status.exitCode, status.all).toBe(0);
    const plan = await readJson<{ releases: { name: string; type: string; oldVersion: string; newVersion: string }[] }>(out);
    const published = (await publicPackages()).map((p) => p.name).sort();
    const bumped = plan.releases.filter((r) => r.type !== "none");
    // After a release the changesets are consumed: nothing is pending, and that is fine too.
    if (bumped.length > 0) expect(bumped.map((r) => r.name).sort()).toEqual(published);
    for (const release of bumped) expect(release.newVersion, release.name).not.toBe(release.oldVersion);
  });
});
