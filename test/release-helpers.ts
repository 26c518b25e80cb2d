import { existsSync } from "node:fs";
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { delimiter, dirname, join, relative, resolve, sep } from "node:path";
import { execa } from "execa";
import { cacheRoot } from "@gguf-pipeline/core";
import { repoRoot } from "./helpers.js";

/** A package that is published: its name, folder and manifest. */
export interface PublicPackage {
  name: string;
  dir: string;
  manifest: PackageManifest;
}

export interface PackageManifest {
  name: string;
  version: string;
  private?: boolean;
  type?: string;
  license?: string;
  engines?: Record<string, string>;
  exports?: Record<string, unknown>;
  files?: string[];
  bin?: Record<string, string>;
  publishConfig?: { access?: string };
  repository?: { type?: string; url?: string; directory?: string };
  dependencies?: Record<string, string>;
}

/** The workspace's published packages (packages/* and native; the test packages are private). */
export async function publicPackages(): Promise<PublicPackage[]> {
  const dirs = [...(await readdir(join(repoRoot, "packages"))).map((d) => join(repoRoot, "packages", d)), join(repoRoot, "native")];
  const out: PublicPackage[] = [];
  for (const dir of dirs.sort()) {
    if (!existsSync(join(dir, "package.json"))) continue;
    const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as PackageManifest;
    if (!manifest.private) out.push({ name: manifest.name, dir, manifest });
  }
  return out;
}

/** pnpm: on PATH (the README's commands put it there), else the pinned one scripts/bootstrap.mjs installs into the cache. */
export async function pnpmCommand(): Promise<string> {
  const onPath = (process.env.PATH ?? "").split(delimiter).find((dir) => dir && existsSync(join(dir, "pnpm")));
  if (onPath) return join(onPath, "pnpm");
  const root = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { packageManager: string };
  const version = root.packageManager.split("@")[1] ?? "";
  const cached = join(cacheRoot(), "tools", `pnpm-${version}`, "node_modules", ".bin", "pnpm");
  if (!existsSync(cached)) throw new Error(`pnpm ${version} is neither on PATH nor in ${cached}: run \`npm test\` once (it installs it)`);
  return cached;
}

/** `pnpm pack` every published package into `dest` (pnpm rewrites workspace:^ to the versions); the tarballs' paths. */
export async function packPackages(params: { packages: PublicPackage[]; dest: string }): Promise<string[]> {
  const pnpm = await pnpmCommand();
  await mkdir(params.dest, { recursive: true });
  const packed = await Promise.all(
    params.packages.map(async (pkg) => {
      const result = await execa(pnpm, ["pack", "--pack-destination", params.dest], { cwd: pkg.dir, all: true, reject: false });
      if (result.exitCode !== 0) throw new Error(`pnpm pack in ${pkg.dir} failed: ${result.all}`);
      return join(params.dest, `${pkg.name.replace(/^@/, "").replace("/", "-")}-${pkg.manifest.version}.tgz`);
    }),
  );
  for (const tarball of packed) if (!existsSync(tarball)) throw new Error(`pnpm pack did not write ${tarball}`);
  return packed;
}

/**
 * An empty project with the tarballs installed by npm, as a user's project would have them: the packages' own
 * dependencies come from the npm registry (through a persistent npm cache, so a second run is quick).
 */
export async function installTarballs(params: { dir: string; tarballs: string[] }): Promise<void> {
  await mkdir(params.dir, { recursive: true });
  await writeFile(join(params.dir, "package.json"), `${JSON.stringify({ name: "gguf-pipeline-user", private: true, type: "module" }, null, 2)}\n`);
  const result = await execa(
    "npm",
    ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", "--cache", join(cacheRoot(), "test-npm-cache"), ...params.tarballs],
    { cwd: params.dir, all: true, reject: false, env: { npm_config_update_notifier: "false" } },
  );
  if (result.exitCode !== 0) throw new Error(`npm install in ${params.dir} failed: ${result.all}`);
}

/** Every workflow in the repository: this repo's own and the examples model authors copy. */
export async function workflowFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const dir of [join(repoRoot, ".github", "workflows"), join(repoRoot, "examples", "github-actions")]) {
    for (const name of (await readdir(dir)).sort()) if (/\.ya?ml$/.test(name)) files.push(join(dir, name));
  }
  return files;
}

/**
 * The arguments `changeset status` needs to find its base: `main` when the clone has it, else origin/main (a pull
 * request's checkout), else HEAD. With no changeset pending (just after a release, or the version PR that consumed
 * them) the base is HEAD: the command's config and workspace are still checked; whether a change needs a changeset is
 * CI's own step.
 */
export async function changesetStatusBase(): Promise<{ args: string[]; base: string }> {
  const has = async (ref: string) => (await execa("git", ["rev-parse", "--verify", "--quiet", ref], { cwd: repoRoot, reject: false })).exitCode === 0;
  const pending = (await readdir(join(repoRoot, ".changeset"))).filter((f) => f.endsWith(".md") && f !== "README.md");
  if (pending.length === 0) return { args: ["--since=HEAD"], base: "HEAD" };
  // With the config's baseBranch every changeset file counts (committed or not); with --since only committed ones do.
  if (await has("refs/heads/main")) return { args: [], base: "main" };
  if (await has("refs/remotes/origin/main")) return { args: ["--since=origin/main"], base: "origin/main" };
  return { args: ["--since=HEAD"], base: "HEAD" };
}

/** The first ```js block of a README: the runnable example. */
export async function readmeExample(readme: string): Promise<string> {
  const text = await readFile(readme, "utf8");
  const block = /```js\n([\s\S]*?)```/.exec(text)?.[1];
  if (!block) throw new Error(`${readme} has no \`\`\`js example`);
  return block;
}

// ---------------------------------------------------------------------------------------------------------------------
// The example workflows, run step by step on this machine. Not a general Actions runner: it knows the steps and
// expressions our examples use and refuses anything else, so a new step or condition in an example has to be taught
// here (and so tested) rather than silently skipped.

export interface WorkflowStep {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
}

export interface WorkflowJob {
  needs?: string | string[];
  if?: string;
  outputs?: Record<string, string>;
  strategy?: { matrix?: unknown };
  steps: WorkflowStep[];
}

export interface Workflow {
  env?: Record<string, string>;
  jobs: Record<string, WorkflowJob>;
}

/** Parses a workflow with the `yaml` package (a dependency of the publish package, which writes model cards with it). */
export async function readWorkflow(file: string): Promise<Workflow> {
  const require = createRequire(join(repoRoot, "packages", "publish", "package.json"));
  const { parse } = require("yaml") as { parse: (text: string) => unknown };
  return parse(await readFile(file, "utf8")) as Workflow;
}

export interface SimulatedRun {
  /** Holds `artifacts/<name>/` (what upload-artifact stored), `jobs/<job>/` (each job's workspace) and `temp/`. */
  root: string;
  github: { ref: string; refName: string };
  secrets: Record<string, string>;
  /** Extra environment for every step (e.g. HF_ENDPOINT for a local Hub). */
  env?: Record<string, string>;
  /** Fills a fresh job workspace, as actions/checkout and the "Install the pipeline" step would. */
  checkout: (workspace: string) => Promise<void>;
}

export interface SimulatedJob {
  workspace: string;
  outputs: Record<string, string>;
  summary: string;
  /** Each step: its name and what happened ("ran", "skipped: why"). */
  steps: { name: string; result: string }[];
}

interface StepContext {
  workspace: string;
  env: Record<string, string>;
  matrix: Record<string, unknown>;
  steps: Record<string, Record<string, string>>;
  run: SimulatedRun;
}

/** Runs one job of a workflow: `run` steps with bash as Actions does, artifact steps as folder copies. */
export async function runWorkflowJob(params: { workflow: Workflow; job: string; run: SimulatedRun; matrix?: Record<string, unknown>; label?: string }): Promise<SimulatedJob> {
  const job = params.workflow.jobs[params.job];
  if (!job) throw new Error(`the workflow has no job "${params.job}"`);
  const label = params.label ?? params.job;
  const workspace = join(params.run.root, "jobs", label);
  const temp = join(params.run.root, "temp", label);
  await rm(workspace, { recursive: true, force: true });
  await rm(temp, { recursive: true, force: true });
  await mkdir(workspace, { recursive: true });
  await mkdir(temp, { recursive: true });
  await params.run.checkout(workspace);
  const summaryFile = join(temp, "summary.md");
  await writeFile(summaryFile, "");
  const pathFile = join(temp, "path");
  await writeFile(pathFile, "");
  const shims = await npmShim(temp);
  const ctx: StepContext = { workspace, env: { ...params.workflow.env }, matrix: params.matrix ?? {}, steps: {}, run: params.run };
  const done: SimulatedJob["steps"] = [];
  for (const [index, step] of job.steps.entries()) {
    const name = step.name ?? step.uses ?? `step ${index + 1}`;
    if (step.if !== undefined && !condition(step.if, ctx)) {
      done.push({ name, result: "skipped: its condition is false" });
      continue;
    }
    if (step.uses) {
      done.push({ name, result: await useAction(step, ctx) });
      continue;
    }
    if (!step.run) throw new Error(`step "${name}" has neither uses nor run`);
    const outputFile = join(temp, `output-${index}`);
    await writeFile(outputFile, "");
    const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(String(v), ctx)]));
    const result = await execa("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", expand(step.run, ctx)], {
      cwd: workspace,
      reject: false,
      all: true,
      stdin: "ignore",
      env: {
        ...params.run.env,
        ...ctx.env,
        ...stepEnv,
        // What earlier steps added to GITHUB_PATH comes first (the last added first), as on a runner.
        PATH: [...(await readFile(pathFile, "utf8")).split("\n").filter(Boolean).reverse(), shims, process.env.PATH ?? ""].join(delimiter),
        CI: "true",
        GITHUB_ACTIONS: "true",
        GITHUB_WORKSPACE: workspace,
        GITHUB_OUTPUT: outputFile,
        GITHUB_PATH: pathFile,
        GITHUB_STEP_SUMMARY: summaryFile,
        GITHUB_REF: params.run.github.ref,
        GITHUB_REF_NAME: params.run.github.refName,
        RUNNER_TEMP: temp,
        ImageOS: "ubuntu24",
      },
    });
    if (result.exitCode !== 0) throw new Error(`${label}: step "${name}" failed (exit ${result.exitCode}):\n${result.all.split("\n").slice(-40).join("\n")}`);
    if (step.id) ctx.steps[step.id] = parseOutputs(await readFile(outputFile, "utf8"));
    done.push({ name, result: "ran" });
  }
  const outputs = Object.fromEntries(Object.entries(job.outputs ?? {}).map(([k, v]) => [k, expand(v, ctx)]));
  return { workspace, outputs, summary: await readFile(summaryFile, "utf8"), steps: done };
}

/**
 * The job's `npm`: `npm install` does nothing (the packed tarballs stand in for the registry's version and are linked
 * into the workspace by `checkout`); any other npm command is the real npm.
 */
async function npmShim(temp: string): Promise<string> {
  const real = (process.env.PATH ?? "").split(delimiter).find((dir) => dir && existsSync(join(dir, "npm")));
  if (!real) throw new Error("npm is not on PATH");
  const dir = join(temp, "bin");
  await mkdir(dir, { recursive: true });
  const script = `#!/bin/sh\nif [ "$1" = install ]; then echo "npm install: the packed tarballs are installed already"; exit 0; fi\nexec "${join(real, "npm")}" "$@"\n`;
  await writeFile(join(dir, "npm"), script, { mode: 0o755 });
  return dir;
}

/** `key=value` lines (the only form our examples write). */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}

/** `${{ ... }}` in a run script, env value or `with` input: the expressions our examples use. */
function expand(text: string, ctx: StepContext): string {
  return text.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_all, expr: string) => {
    let m: RegExpExecArray | null;
    if ((m = /^matrix\.(\w+)$/.exec(expr))) return String(ctx.matrix[m[1] ?? ""] ?? "");
    if ((m = /^env\.(\w+)$/.exec(expr))) return ctx.env[m[1] ?? ""] ?? "";
    if ((m = /^secrets\.(\w+)$/.exec(expr))) return ctx.run.secrets[m[1] ?? ""] ?? "";
    if ((m = /^steps\.([\w-]+)\.outputs\.(\w+)$/.exec(expr))) return ctx.steps[m[1] ?? ""]?.[m[2] ?? ""] ?? "";
    if (expr === "github.ref_name") return ctx.run.github.refName;
    if (expr === "github.ref") return ctx.run.github.ref;
    throw new Error(`the workflow simulation does not know the expression \${{ ${expr} }}: teach test/release-helpers.ts`);
  });
}

/** A step's `if:`, from the forms our examples use. */
function condition(raw: string, ctx: StepContext): boolean {
  const expr = raw.trim().replace(/^\$\{\{\s*([\s\S]*?)\s*\}\}$/, "$1").trim();
  const isTag = ctx.run.github.ref.startsWith("refs/tags/");
  const report = (dir: string) => existsSync(join(ctx.workspace, dir, "report.json"));
  const known: Record<string, () => boolean> = {
    "startsWith(github.ref, 'refs/tags/')": () => isTag,
    "!startsWith(github.ref, 'refs/tags/')": () => !isTag,
    "!cancelled() && hashFiles(format('{0}/report.json', env.OUT)) != ''": () => report(ctx.env.OUT ?? ""),
    "!cancelled() && hashFiles('out/report.json') != ''": () => report("out"),
    "contains(matrix.needs, 'imatrix')": () => Array.isArray(ctx.matrix.needs) && ctx.matrix.needs.includes("imatrix"),
  };
  const check = known[expr];
  if (!check) throw new Error(`the workflow simulation does not know the condition "${expr}": teach test/release-helpers.ts`);
  return check();
}

/** The actions our examples use: the environment ones are this machine already; artifacts are folders. */
async function useAction(step: WorkflowStep, ctx: StepContext): Promise<string> {
  const action = (step.uses ?? "").split("@")[0];
  const input = (key: string) => (step.with?.[key] === undefined ? undefined : expand(String(step.with[key]), ctx));
  switch (action) {
    case "actions/checkout":
      return "done before the steps (the job's workspace)";
    case "actions/setup-node":
      return `skipped: this machine's Node ${process.version}`;
    case "actions/cache":
      return "skipped: this machine's cache is warm";
    case "actions/upload-artifact": {
      const name = input("name") ?? "artifact";
      const count = await uploadArtifact({ workspace: ctx.workspace, store: join(ctx.run.root, "artifacts", name), path: input("path") ?? "", hidden: input("include-hidden-files") === "true" });
      if (count === 0 && input("if-no-files-found") === "error") throw new Error(`upload-artifact ${name}: no files found`);
      return `stored ${count} file(s) as ${name}`;
    }
    case "actions/download-artifact": {
      const into = resolve(ctx.workspace, input("path") ?? ".");
      const name = input("name");
      const pattern = input("pattern");
      const store = join(ctx.run.root, "artifacts");
      if (name) {
        if (!existsSync(join(store, name))) throw new Error(`download-artifact: no artifact named ${name}`);
        await cp(join(store, name), into, { recursive: true });
        return `downloaded ${name}`;
      }
      if (!pattern) throw new Error("download-artifact needs a name or a pattern");
      const glob = new RegExp(`^${pattern.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
      const names = (await readdir(store)).filter((n) => glob.test(n)).sort();
      // Without merge-multiple, each artifact lands in a folder of its own name.
      for (const n of names) await cp(join(store, n), join(into, n), { recursive: true });
      return `downloaded ${names.join(", ")}`;
    }
    default:
      throw new Error(`the workflow simulation does not know the action ${step.uses ?? ""}: teach test/release-helpers.ts`);
  }
}

/**
 * upload-artifact's rules: each line a path (a `!` line excludes), hidden files and folders left out unless asked,
 * paths inside the artifact relative to the search paths' least common ancestor.
 */
async function uploadArtifact(params: { workspace: string; store: string; path: string; hidden: boolean }): Promise<number> {
  const lines = params.path.split("\n").map((l) => l.trim()).filter(Boolean);
  const include = lines.filter((l) => !l.startsWith("!")).map((l) => resolve(params.workspace, l));
  const exclude = lines.filter((l) => l.startsWith("!")).map((l) => resolve(params.workspace, l.slice(1)));
  const files: string[] = [];
  const roots: string[] = [];
  for (const path of include) {
    const info = await stat(path).catch(() => undefined);
    if (!info) continue;
    if (info.isDirectory()) {
      roots.push(path);
      for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) if (entry.isFile()) files.push(join(entry.parentPath, entry.name));
    } else {
      roots.push(dirname(path));
      files.push(path);
    }
  }
  const excluded = (file: string) => exclude.some((e) => file === e || file.startsWith(`${e}${sep}`));
  const hiddenPart = (file: string) => relative(params.workspace, file).split(sep).some((part) => part.startsWith("."));
  const chosen = [...new Set(files)].filter((f) => !excluded(f) && (params.hidden || !hiddenPart(f)));
  const root = roots.reduce((a, b) => {
    let common = a;
    while (b !== common && !b.startsWith(`${common}${sep}`)) common = dirname(common);
    return common;
  }, roots[0] ?? params.workspace);
  await rm(params.store, { recursive: true, force: true });
  for (const file of chosen) {
    const to = join(params.store, relative(root, file));
    await mkdir(dirname(to), { recursive: true });
    await cp(file, to);
  }
  return chosen.length;
}
