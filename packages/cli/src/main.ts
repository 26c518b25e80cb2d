import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { cacheRoot, CanceledError, formatBytes, forTerminal, IllegalInstructionError, PipelineError, suggest, ToolError, type RunReport } from "@gguf-pipeline/core";
import { ensureToolchain, explainIllegalInstruction, isCpuFeature, switchableFeatures, type CpuFeature } from "@gguf-pipeline/native";
import { drain } from "./drain.js";
import { doctorCommand, formatDoctor } from "./doctor-command.js";
import { UsageError } from "./errors.js";
import { checkCommand, formatCheck } from "./check-command.js";
import { formatInspect, inspectCommand } from "./inspect-command.js";
import { gatherRuns } from "./gather-runs.js";
import { planRecipe } from "./plan-recipe.js";
import { prepareRecipe } from "./prepare-recipe.js";
import { runParts } from "./steps/run-steps.js";
import { renderSteps, type OutputMode } from "./render-events.js";
import { formatReport, reportCommand } from "./report-command.js";
import { formatValidation } from "./format-validation.js";
import { formatWhere } from "./format-where.js";
import { runCommand } from "./run-command.js";
import { pipelineVersion } from "./pipeline-version.js";
import { validateCommand } from "./validate-command.js";

export const usage = `usage: pipeline <command> [options]

  run RECIPE [--out DIR] [--force] [--json] [--jobs N] [--allow CHECK,...] [--no-publish] [--only PART]
                                               run the recipe: convert, adapters, imatrix, quants, quality, validation,
                                               publish; write report.json (--allow accepts named failed checks;
                                               --only convert|imatrix|TYPE makes one part of a fanned-out ladder)
  gather RECIPE PART_DIR... [--out DIR] [--json] [--allow CHECK,...]
                                               bring the parts' files together, then evaluate, validate and report
  publish RECIPE [--out DIR] [--dry-run] [--json]
                                               publish a finished run (Hub: HF_TOKEN, HF_ENDPOINT); --dry-run prints
                                               what would be uploaded and writes nothing
  plan RECIPE [--out DIR] [--force] [--json]  what would run, what is cached, disk needed vs. free
  plan RECIPE --matrix                         the parts of the ladder as JSON, for a CI job matrix
  validate RECIPE                              check the recipe and its source model; no work
  report OUTDIR [--json]                       the table of a finished run: type, size, bpw, PPL, KLD, top-1
  inspect FILE.gguf [--ctx N] [--json]         metadata, tensor summary, memory at a context length
  inspect --check FILE.gguf [--smoke] [--json] structural checks (bounds, size, tokenizer, file type...), and with
                                               --smoke a generation through its chat template; exit 1 if any fails
  doctor [--json]                              tools, versions, llama.cpp commit, Python env, what is missing
  setup [--without EXT,...]                    build llama.cpp, prove it on this CPU (its self-test) and create the Python
                                               env now (the first run does it too); --without amx|avx512|… builds it
                                               without those instruction-set extensions from now on

exit codes: 0 ok, 1 a stage failed, 2 bad recipe or usage, 130 interrupted`;

export interface MainParams {
  argv: string[];
  signal: AbortSignal;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** The CLI as a function: parses argv, runs the command, prints, and returns the exit code. */
export async function main(params: MainParams): Promise<number> {
  // Every line goes out redacted and printable: a server's or a file's words may carry the token or escape sequences.
  const safe = (write: (line: string) => void) => (text: string) => write(text.split("\n").map((line) => forTerminal(line)).join("\n"));
  const out = safe(params.out ?? ((line: string) => process.stdout.write(`${line}\n`)));
  const err = safe(params.err ?? ((line: string) => process.stderr.write(`${line}\n`)));
  let json = false;
  try {
    const { values, positionals } = parseCli(params.argv);
    json = Boolean(values.json);
    const [command, ...args] = positionals;
    if (values.version) {
      out(`pipeline ${await pipelineVersion()} (llama.cpp ${(await import("@gguf-pipeline/native")).readPin().source.llamaCppCommit})`);
      return 0;
    }
    if (values.help || !command) {
      (command || values.help ? out : err)(usage);
      return values.help ? 0 : 2;
    }
    const mode: OutputMode = json ? "json" : process.stdout.isTTY && !process.env.CI ? "tty" : "lines";
    const needOne = (what: string) => {
      if (args.length !== 1 || !args[0]) throw new UsageError(`${command} takes one ${what}`);
      return args[0];
    };
    const options = { ...(values.out ? { outDir: values.out } : {}), force: Boolean(values.force) };
    switch (command) {
      case "run": {
        // Digits only: Number() would take 1e3 and 0x2 as numbers a user never meant.
        if (values.jobs !== undefined && !/^[1-9]\d{0,3}$/.test(values.jobs)) throw new UsageError(`--jobs must be a positive integer, not "${values.jobs}"`);
        const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
        const allow = (values.allow ?? []).flatMap((a) => a.split(",")).map((a) => a.trim()).filter(Boolean);
        // The tables are printed when report.json is written, before a failed check or quant ends the run.
        const onReport = (report: RunReport, path: string) => {
          if (json) return;
          out("");
          formatReport(report).forEach((line) => out(line));
          out("");
          formatValidation(report).forEach((line) => out(line));
          out(`report: ${path}`);
        };
        const result = await runCommand({ file: needOne("RECIPE"), ...options, ...(jobs ? { jobs } : {}), ...(allow.length ? { allow } : {}), ...(values["no-publish"] ? { noPublish: true } : {}), ...(values.only ? { only: values.only } : {}), mode, signal: params.signal, onReport, note: err });
        if (json) out(JSON.stringify({ type: "report", path: result.reportPath, report: result.report }));
        else if (result.report.published?.hf) {
          // Loaded only when something was published: the Hub client is not part of every run's start-up.
          const { formatHubPlan } = await import("@gguf-pipeline/publish");
          formatHubPlan(result.report.published.hf).forEach((line) => out(line));
        }
        for (const tag of result.report.published?.ollama?.tags ?? []) out(`ollama  ${tag.tag} → ${tag.folder}${tag.created ? ", created" : ""}${tag.pushed ? ", pushed" : ""}`);
        if (!json) ["", ...formatWhere({ report: result.report, outDir: dirname(result.reportPath), reportPath: result.reportPath })].forEach((line) => out(line));
        return 0;
      }
      case "publish": {
        const { publishCommand } = await import("./publish-command.js");
        const result = await publishCommand({ file: needOne("RECIPE"), ...(values.out ? { outDir: values.out } : {}), dryRun: Boolean(values["dry-run"]), mode, signal: params.signal });
        if (json) out(JSON.stringify({ type: "published", path: result.reportPath, published: result.published }));
        else result.lines.forEach((line) => out(line));
        return 0;
      }
      case "gather": {
        const [recipe, ...parts] = args;
        if (!recipe || parts.length === 0) throw new UsageError("gather takes a RECIPE and the parts' output folders");
        const allow = (values.allow ?? []).flatMap((a) => a.split(",")).map((a) => a.trim()).filter(Boolean);
        await renderSteps({ mode, ctx: {}, steps: [{ title: "Gather the parts", stage: "gather", run: async (_c, emit) => void (await drain(gatherRuns({ file: recipe, parts, ...(values.out ? { outDir: values.out } : {}), signal: params.signal }), emit)) }] });
        const result = await runCommand({ file: recipe, ...(values.out ? { outDir: values.out } : {}), ...(allow.length ? { allow } : {}), noPublish: true, mode, signal: params.signal, note: err, onReport: (report, path) => {
          if (json) return;
          [...formatReport(report), "", ...formatValidation(report)].forEach((line) => out(line));
          out(`report: ${path}`);
        } });
        if (json) out(JSON.stringify({ type: "report", path: result.reportPath, report: result.report }));
        return 0;
      }
      case "plan": {
        if (values.matrix) {
          const prepared = await prepareRecipe({ file: needOne("RECIPE") });
          const parts = runParts(prepared);
          out(JSON.stringify({ parts: parts.map((p) => p.part), quants: parts.filter((p) => p.part !== "convert" && p.part !== "imatrix").map((p) => p.part), imatrix: parts.some((p) => p.part === "imatrix"), include: parts }));
          return 0;
        }
        const plan = await planRecipe({ file: needOne("RECIPE"), ...options });
        if (json) out(JSON.stringify(plan));
        else {
          for (const s of plan.steps) out(`${s.cached ? "cached " : "will run"}  ${s.stage.padEnd(10)} ${s.what}`);
          out(`disk: output needs ${formatBytes(plan.output.needBytes)}, ${formatBytes(plan.output.freeBytes)} free in ${plan.output.dir}`);
          if (plan.cache.needBytes > 0) out(`      toolchain needs ${formatBytes(plan.cache.needBytes)}, ${formatBytes(plan.cache.freeBytes)} free in ${plan.cache.dir}`);
          if (!plan.enoughSpace) out("not enough free disk space for this run");
        }
        return plan.enoughSpace ? 0 : 1;
      }
      case "validate": {
        const result = await validateCommand({ file: needOne("RECIPE"), ...options });
        if (json) out(JSON.stringify({ ok: true, name: result.prepared.loaded.name, outDir: result.prepared.loaded.outDir, source: result.prepared.source.dir }));
        else result.lines.forEach((line) => out(line));
        return 0;
      }
      case "report": {
        const result = await reportCommand({ outDir: needOne("OUTDIR") });
        if (json) out(JSON.stringify(result));
        else [...formatReport(result), "", ...formatValidation(result)].forEach((line) => out(line));
        return 0;
      }
      case "inspect": {
        if (values.check) {
          const result = await checkCommand({ file: needOne("FILE.gguf"), smoke: Boolean(values.smoke) });
          if (json) out(JSON.stringify(result));
          else formatCheck(result).forEach((line) => out(line));
          if (!result.ok) err(`error: ${result.file}: ${result.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.fact}`).join("; ")}`);
          return result.ok ? 0 : 1;
        }
        if (values.ctx !== undefined && !/^[1-9]\d{0,7}$/.test(values.ctx)) throw new UsageError(`--ctx must be a positive integer, not "${values.ctx}"`);
        const ctx = values.ctx === undefined ? undefined : Number(values.ctx);
        const result = await inspectCommand({ file: needOne("FILE.gguf"), ...(ctx ? { ctx } : {}) });
        if (json) out(JSON.stringify(result));
        else formatInspect(result).forEach((line) => out(line));
        return 0;
      }
      case "doctor": {
        const result = await doctorCommand();
        if (json) out(JSON.stringify(result));
        else formatDoctor(result).forEach((line) => out(line));
        return result.problems.length === 0 ? 0 : 1;
      }
      case "setup": {
        const without = parseWithout(values.without ?? []);
        await renderSteps({
          mode,
          ctx: {},
          steps: [{ title: "Toolchain: llama.cpp and the converters' Python env", run: async (_c, emit) => void (await drain(ensureToolchain({ signal: params.signal, ...(without.length ? { without } : {}) }), emit)) }],
        });
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    // An abort can surface as a plain AbortError from a stream (hashing), not only as our CanceledError.
    return report(params.signal.aborted && !(error instanceof PipelineError) ? new CanceledError() : error, { err, out, json, signal: params.signal });
  }
}

const cliOptions = {
  out: { type: "string" },
  force: { type: "boolean" },
  json: { type: "boolean" },
  ctx: { type: "string" },
  jobs: { type: "string" },
  check: { type: "boolean" },
  smoke: { type: "boolean" },
  allow: { type: "string", multiple: true },
  "no-publish": { type: "boolean" },
  "dry-run": { type: "boolean" },
  only: { type: "string" },
  matrix: { type: "boolean" },
  without: { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

function parseCli(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: cliOptions });
  } catch (error) {
    throw usageErrorOf(error);
  }
}

/** Node's parseArgs errors, said in our words: the option, what is wrong, and the closest known option. */
function usageErrorOf(error: unknown): UsageError {
  const { code, message } = error as { code?: string; message?: string };
  const option = /'(-[^' ]+)/.exec(message ?? "")?.[1] ?? "";
  const known = Object.keys(cliOptions).map((name) => `--${name}`);
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const given = option.replace(/=.*$/, "");
    // --outdir, --output: a known option the unknown one starts with is the likely one.
    const guess = suggest(given, known) ?? known.find((k) => given.startsWith(k));
    return new UsageError(`unknown option ${option}`, guess ? `did you mean ${guess}? (\`pipeline --help\` lists them)` : "run `pipeline --help` for the options");
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    // `--jobs -1`: parseArgs will not take a value that starts with a dash after a space.
    if (/ambiguous/.test(message ?? "")) return new UsageError(`option ${option} needs a value`, `one that starts with a dash goes after "=": ${option}=-1`);
    return new UsageError(/argument missing/.test(message ?? "") ? `option ${option} needs a value` : `option ${option} takes no value`);
  }
  return new UsageError((message ?? "bad arguments").split("\n")[0] ?? "bad arguments");
}

/** A failed write of ours as one line: what happened to which path, and the fix for that cause (the cache has its own). */
function errnoLine(errno: NodeJS.ErrnoException): string {
  const why: Record<string, string> = { ENOSPC: "the disk is full", EROFS: "the file system is read-only", EACCES: "permission denied", EPERM: "operation not permitted", EDQUOT: "the disk quota is exceeded", ENOTDIR: "a file stands where a folder must be", EEXIST: "a file stands where a folder must be", ENAMETOOLONG: "the name is too long for the file system" };
  const what = `${errno.path ?? errno.syscall}: ${(errno.code ? why[errno.code] : undefined) ?? errno.message}`;
  const cache = cacheRoot();
  const inCache = errno.path !== undefined && (errno.path === cache || errno.path.startsWith(`${cache}/`) || cache.startsWith(`${errno.path}/`));
  if (inCache) return `${what} — the cache folder ${cache} is not usable: set GGUF_PIPELINE_CACHE to a writable folder (or fix XDG_CACHE_HOME / HOME)`;
  if (errno.code === "ENOSPC" || errno.code === "EDQUOT") return `${what} — free some space, then run again`;
  if (errno.code === "ENAMETOOLONG") return `${what} — choose a shorter name or output folder`;
  return `${what} — fix the folder's permissions (or move it aside), then run again`;
}

/** `--without amx,avx512`: known extensions only, said back with the ones there are. */
function parseWithout(values: string[]): CpuFeature[] {
  const names = values.flatMap((v) => v.split(",")).map((v) => v.trim().toLowerCase()).filter(Boolean);
  const unknown = names.find((n) => !isCpuFeature(n));
  if (unknown !== undefined) throw new UsageError(`--without: unknown instruction-set extension "${unknown}"`, `one of ${Object.keys(switchableFeatures).join(", ")}`);
  return names.filter(isCpuFeature);
}

async function report(error: unknown, io: { err: (line: string) => void; out: (line: string) => void; json: boolean; signal: AbortSignal }): Promise<number> {
  if (error instanceof IllegalInstructionError) {
    // Never one failure among others: the toolchain does not run on this CPU, and the line says how to rebuild it.
    const explained = await explainIllegalInstruction({ error, signal: io.signal }).catch(() => undefined);
    const message = explained?.message ?? error.message;
    const hint = explained?.hint ?? "pipeline doctor shows what the build uses; pipeline setup --without <extension> rebuilds without it";
    io.err(`error: ${message} — ${hint}`);
    if (io.json) io.out(JSON.stringify({ type: "error", exitCode: 1, message, hint, signal: "SIGILL", tool: error.tool, ...(error.file ? { file: error.file } : {}), ...(explained?.feature ? { feature: explained.feature } : {}) }));
    return 1;
  }
  if (error instanceof CanceledError) {
    io.err("interrupted: nothing was left under a final name; run it again to finish");
    if (io.json) io.out(JSON.stringify({ type: "error", exitCode: 130, message: "interrupted" }));
    return 130;
  }
  if (error instanceof PipelineError) {
    io.err(`error: ${error.toLine()}`);
    if (error instanceof ToolError && error.stderrTail) for (const line of error.stderrTail.split("\n").slice(-12)) io.err(`  | ${line}`);
    if (io.json) io.out(JSON.stringify({ type: "error", exitCode: error.exitCode, message: error.message, file: error.file, hint: error.hint }));
    return error.exitCode;
  }
  // Our own writes failing (a full disk, a read-only or forbidden folder): one line with the path, not a stack.
  const errno = error as NodeJS.ErrnoException;
  if (errno?.code && errno.syscall) {
    const line = errnoLine(errno);
    io.err(`error: ${line}`);
    if (io.json) io.out(JSON.stringify({ type: "error", exitCode: 1, message: errno.message, file: errno.path }));
    return 1;
  }
  io.err(`error: ${(error as Error)?.stack ?? String(error)}`);
  return 1;
}
