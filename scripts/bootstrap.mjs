#!/usr/bin/env node
// The two quick-start commands (`npm run example`, `npm test`) start here, on a machine that may have only Node and npm:
// get the pinned pnpm (into the cache, not globally), install, build, then hand over to the real command.
// The native build and the Python env are made by the pipeline itself on first use, with progress.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pnpmVersion = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager.split("@")[1];
process.env.TURBO_TELEMETRY_DISABLED = "1";
const cache = process.env.GGUF_PIPELINE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "gguf-pipeline");

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: "inherit", cwd: root, env: process.env, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function must(command, args, options) {
  const status = run(command, args, options);
  if (status !== 0) process.exit(status);
}

function ensurePnpm() {
  const probe = spawnSync("pnpm", ["--version"], { encoding: "utf8" });
  if (probe.status === 0 && probe.stdout.trim() === pnpmVersion) return;
  const prefix = join(cache, "tools", `pnpm-${pnpmVersion}`);
  const bin = join(prefix, "node_modules", ".bin");
  if (!existsSync(join(bin, "pnpm"))) {
    console.error(`> installing pnpm ${pnpmVersion} into ${prefix}`);
    must("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", prefix, `pnpm@${pnpmVersion}`], { stdio: ["inherit", process.stderr, "inherit"] });
  }
  process.env.PATH = `${bin}${delimiter}${process.env.PATH}`;
}

const [command, ...rest] = process.argv.slice(2);
if (command !== "example" && command !== "test" && command !== "test-hub") {
  console.error("usage: node scripts/bootstrap.mjs example|test|test-hub [args]");
  process.exit(2);
}
ensurePnpm();
// Installing and building is progress, not the command's output: it goes to stderr, so stdout stays the command's own
// (the test Hub's first line is its URL).
const toStderr = { stdio: ["inherit", process.stderr, "inherit"] };
must("pnpm", ["install", "--frozen-lockfile", "--reporter=silent"], toStderr);
must("pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only"], toStderr);

const commands = {
  // The local Hub the tests use, on its own (for trying a release workflow offline): prints its URL first.
  "test-hub": () => run("node", ["test/hub/dist/bin.js", ...rest]),
  example: () => run("node", ["packages/cli/dist/bin.js", "run", "examples/tiny/recipe.json", ...rest]),
  // Lint and the strict type check (specs and tests included) are part of the test command, so CI and a new user run the same gate.
  test: () => run("pnpm", ["exec", "eslint", "."]) || run("pnpm", ["exec", "tsc", "-p", "tsconfig.json"]) || run("pnpm", ["exec", "vitest", "run", ...rest]),
};
process.exit(commands[command]());
