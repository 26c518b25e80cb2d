import type { SelfTestCrash } from "../self-test/self-test-toolchain.js";
import { buildUses, cpuFeatureNames, missingOnThisCpu, readCpuInfo, switchableFeatures, type CpuFeature } from "./cpu-features.js";
import { findFaultingInstruction } from "./find-faulting-instruction.js";

export interface BlameFeatureParams {
  crash: SelfTestCrash;
  /** What the build uses, from ggml's system_info (may be empty when the tool died before printing it). */
  features: readonly string[];
  /** Extensions already turned off. */
  exclude: readonly CpuFeature[];
  cwd?: string;
  signal?: AbortSignal;
}

export interface Blamed {
  feature: CpuFeature;
  /** How it was found, for the record and the user: the instruction gdb stopped on, or why it is the likely one. */
  evidence: string;
}

/**
 * The extension a SIGILL is blamed on, best evidence first: the switch that simulated it; the instruction gdb finds
 * when the command runs again; an extension the build uses that this CPU does not advertise; else the most specific
 * extension the build uses (AMX before AVX-512's parts before AVX-512 itself).
 */
export async function blameFeature(params: BlameFeatureParams): Promise<Blamed | undefined> {
  const open = (f: CpuFeature) => !params.exclude.includes(f);
  if (params.crash.simulated && open(params.crash.simulated)) return { feature: params.crash.simulated, evidence: `simulated by GGUF_PIPELINE_SIMULATE_SIGILL=${params.crash.simulated}` };
  if (params.crash.simulated) return undefined;
  const fault = await findFaultingInstruction({ command: params.crash.command, args: params.crash.args, ...(params.cwd ? { cwd: params.cwd } : {}), ...(params.signal ? { signal: params.signal } : {}) });
  const where = fault ? `at \`${fault.instruction}\`${fault.function && fault.function !== "??" ? ` in ${shorten(fault.function)}` : ""}` : "";
  if (fault?.feature && open(fault.feature)) return { feature: fault.feature, evidence: `${where}, an ${switchableFeatures[fault.feature].label} instruction` };
  const used = buildUses(params.features).filter(open);
  const missing = missingOnThisCpu(used);
  if (missing[0]) return { feature: missing[0], evidence: `${where ? `${where}; ` : ""}the build uses ${switchableFeatures[missing[0]].label}, which this CPU does not advertise` };
  // Without system_info (the tool died at once), what -march=native compiled in: every extension this CPU advertises.
  const info = readCpuInfo();
  const advertised = (f: CpuFeature) => switchableFeatures[f].cpuinfo.some((flag) => info.flags.includes(flag));
  const candidates = params.features.length > 0 ? used : cpuFeatureNames.filter((f) => open(f) && advertised(f));
  const likely = candidates[0];
  if (!likely) return undefined;
  return { feature: likely, evidence: `${where ? `${where}, not an instruction this table knows` : "no gdb to see the instruction"}; ${switchableFeatures[likely].label} is the most specific extension the build uses` };
}

function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
