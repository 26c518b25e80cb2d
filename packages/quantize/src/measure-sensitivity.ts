import { mkdir, rm, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { hashFile, parseKld, readGguf, runToolToEnd, stableKey, stateDirName, type Artifact, type StageEvent } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import type { Sensitivity } from "./allocate-mix.js";
import { memoJson } from "./memo-json.js";
import { mixTensorBytes, mixTypes, type MixType } from "./mix-types.js";
import { runPerplexity } from "./run-perplexity.js";
import { exactTensorPattern, type TensorGroup } from "./tensor-groups.js";

export interface MeasureSensitivityParams {
  /** The high-precision intermediate every quant is made from: the reference distribution. */
  reference: Artifact;
  imatrix?: Artifact;
  groups: TensorGroup[];
  outDir: string;
  /** The calibration text (the importance matrix's). */
  text: string;
  ctx: number;
  chunks: number;
  toolchain: Toolchain;
  force?: boolean;
  signal?: AbortSignal;
}

export interface MeasureSensitivityOutput {
  sensitivity: Sensitivity;
  cached: boolean;
}

const stage = "mix:sensitivity";
/** Bumped when what is measured changes: older measurements are then made again. */
const version = 2;

/**
 * How much the model's output moves when one tensor group alone drops to its fewest bits: llama-quantize makes the
 * model with every tensor at Q8_0 (`--pure`) but that group's at its lowest mix type (`--tensor-type`), and
 * llama-perplexity measures its mean KL divergence from the reference on `chunks` chunks of the calibration text; the
 * group's share is that less the all-Q8_0 model's. The whole model at each mix type (`--pure`) gives the curve a
 * step is worth. 2 tool runs per group and per type; cached by the files' content, the text and the settings.
 */
export async function* measureSensitivity(params: MeasureSensitivityParams): AsyncGenerator<StageEvent, MeasureSensitivityOutput> {
  const started = Date.now();
  yield { type: "start", stage, title: `Sensitivity of ${params.groups.length} tensor groups on ${basename(params.text)} (${params.chunks} chunks of ${params.ctx})` };
  const key = await sensitivityKey({ ...params, commit: params.toolchain.commit });
  const stateDir = join(params.outDir, stateDirName);
  await mkdir(stateDir, { recursive: true });
  let cached = true;
  const events: StageEvent[] = [];
  const sensitivity = await memoJson<Sensitivity>(join(stateDir, `sensitivity-${key}.json`), params.force, async () => {
    cached = false;
    return measure(params, { key, stateDir, note: (message, ratio) => events.push({ type: "progress", stage, message, ...(ratio !== undefined ? { ratio } : {}) }) });
  });
  yield* events;
  const top = Object.entries(sensitivity.groups).sort((a, b) => b[1] - a[1]).slice(0, 3);
  yield { type: "done", stage, title: `Sensitivity of ${params.groups.length} groups${cached ? " — cached" : ""}; most: ${top.map(([g, v]) => `${g} ${v.toFixed(4)}`).join(", ")}`, seconds: (Date.now() - started) / 1000, cached };
  return { sensitivity, cached };
}

/** Where a measurement of these files, text and settings is kept: `pipeline plan` reads it to show the mixes exactly. */
export async function sensitivityFile(params: SensitivityKeyParams & { outDir: string }): Promise<string> {
  return join(params.outDir, stateDirName, `sensitivity-${await sensitivityKey(params)}.json`);
}

type SensitivityKeyParams = Pick<MeasureSensitivityParams, "reference" | "imatrix" | "groups" | "text" | "ctx" | "chunks" | "signal"> & { commit: string };

async function sensitivityKey(params: SensitivityKeyParams): Promise<string> {
  const text = await hashFile({ file: params.text, ...(params.signal ? { signal: params.signal } : {}) });
  const groups = params.groups.map((g) => `${g.name}:${g.types.join(",")}`);
  return stableKey({ stage, version, reference: params.reference.sha256, imatrix: params.imatrix?.sha256 ?? null, text: text.sha256, ctx: params.ctx, chunks: params.chunks, groups, commit: params.commit }).slice(0, 16);
}

interface MeasureContext {
  key: string;
  stateDir: string;
  note: (message: string, ratio?: number) => void;
}

async function measure(params: MeasureSensitivityParams, c: MeasureContext): Promise<Sensitivity> {
  const sig = params.signal ? { signal: params.signal } : {};
  const base = join(c.stateDir, `mix-base-${c.key}.bin`);
  const probe = join(c.stateDir, `mix-probe-${process.pid}.gguf`);
  const cwd = dirname(params.text);
  try {
    await runPerplexity({ toolchain: params.toolchain, args: ["-m", join(params.outDir, params.reference.path), "-f", basename(params.text), "-c", String(params.ctx), "--chunks", String(params.chunks), "--kl-divergence-base", base, "-t", String(availableParallelism())], cwd, read: (t) => (/Final estimate: PPL/.test(t) ? true : "Final estimate"), ...sig });
    const kldOf = async (extra: string[], ftype: string) => {
      // Run as the quantize step runs it (in the output folder, names relative): the same metadata, the same header size.
      await runToolToEnd({ tool: `llama-quantize ${ftype}`, command: params.toolchain.tools.quantize, args: ["--pure", ...extra, ...(params.imatrix ? ["--imatrix", params.imatrix.path] : []), params.reference.path, relative(params.outDir, probe), ftype, String(availableParallelism())], cwd: params.outDir, ...sig });
      return runPerplexity({ toolchain: params.toolchain, args: ["-m", probe, "-c", String(params.ctx), "--kl-divergence-base", base, "--kl-divergence", "-t", String(availableParallelism())], cwd, read: (t) => { const k = parseKld(t).kldMean; return Number.isFinite(k) ? k : "Mean KLD"; }, ...sig });
    };
    const total = mixTypes.length + params.groups.length;
    const pure: Partial<Record<MixType, number>> = {};
    let fixedBytes = 0;
    for (const [i, type] of mixTypes.entries()) {
      pure[type] = await kldOf([], type.toUpperCase());
      c.note(`every group at ${type}: KLD ${pure[type]?.toFixed(6)}`, (i + 1) / total);
      if (type === "q8_0") fixedBytes = (await stat(probe)).size - (await groupBytes(probe, params.groups));
    }
    const groups: Record<string, number> = {};
    for (const [i, g] of params.groups.entries()) {
      const low = g.types[0] ?? "q8_0";
      // A group that takes only Q8_0 has nothing to drop to.
      if (low === "q8_0") continue;
      const kld = await kldOf(g.tensors.flatMap((t) => ["--tensor-type", `${exactTensorPattern(t.name)}=${low}`]), "Q8_0");
      groups[g.name] = kld - (pure.q8_0 ?? 0);
      c.note(`${g.name} at ${low}: KLD +${groups[g.name]?.toFixed(6)}`, (mixTypes.length + i + 1) / total);
    }
    return { pure, groups, fixedBytes };
  } finally {
    await rm(base, { force: true });
    await rm(probe, { force: true });
  }
}

/** The bytes the groups' tensors take in a file where they are all Q8_0 (checked against its header). */
async function groupBytes(file: string, groups: TensorGroup[]): Promise<number> {
  const header = await readGguf({ file });
  const types = new Map(header.tensors.map((t) => [t.name, t.type]));
  let bytes = 0;
  for (const t of groups.flatMap((g) => g.tensors)) {
    if (types.get(t.name) !== "Q8_0") throw new Error(`${t.name} is ${types.get(t.name) ?? "missing"} in the all-Q8_0 probe of ${file}`);
    bytes += mixTensorBytes("q8_0", t.shape);
  }
  return bytes;
}
