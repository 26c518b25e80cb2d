import { dirname } from "node:path";
import type { IllegalInstructionError } from "@gguf-pipeline/core";
import { describeToolchain } from "../describe-toolchain.js";
import { toolchainEnv } from "../ensure-toolchain.js";
import { buildUses, missingOnThisCpu, switchableFeatures, type CpuFeature } from "./cpu-features.js";
import { findFaultingInstruction } from "./find-faulting-instruction.js";

export interface IllegalInstructionExplained {
  /** What happened, where, and the instruction set it needed. */
  message: string;
  /** The command that rebuilds (or what to do about a tool we do not build). */
  hint: string;
  feature?: CpuFeature;
}

/**
 * The one line for a tool killed by SIGILL in a run: which tool, on which file, the instruction it stopped on (its
 * command run again under gdb, when there is one) and the extension that is, and the command that rebuilds without it.
 */
export async function explainIllegalInstruction(params: { error: IllegalInstructionError; env?: NodeJS.ProcessEnv; signal?: AbortSignal }): Promise<IllegalInstructionExplained> {
  const { error } = params;
  const described = await describeToolchain(params.env ? { env: params.env } : {});
  const ours = dirname(error.command) === described.llamaCpp.binDir;
  const fault = await findFaultingInstruction({ command: error.command, args: error.args, ...(error.cwd ? { cwd: error.cwd } : {}), timeoutMs: 60_000, ...(params.signal ? { signal: params.signal } : {}) }).catch(() => undefined);
  const used = buildUses(described.selfTest?.features ?? []);
  const feature = fault?.feature ?? missingOnThisCpu(used)[0] ?? (ours ? used[0] : undefined);
  const at = fault ? ` at \`${fault.instruction}\`${fault.function && fault.function !== "??" ? ` in ${fault.function.length > 60 ? `${fault.function.slice(0, 57)}…` : fault.function}` : ""}` : "";
  const on = error.file ? ` on ${error.file}` : "";
  const label = feature ? switchableFeatures[feature].label : undefined;
  const needed = label ? `: it needed ${label}${fault?.feature ? "" : " (the most likely: no gdb saw the instruction)"}, which this CPU ${missingOnThisCpu(feature ? [feature] : []).length > 0 ? "does not have" : "advertises but faulted on"}` : "";
  const message = `${error.tool} was killed by SIGILL (an illegal instruction)${on}${at}${needed}`;
  if (!ours) {
    const torch = /python/.test(error.command) ? "; for the converters' torch, ATEN_CPU_CAPABILITY=default makes it use its plainest kernels" : "";
    return { message, hint: `${error.command} is not a llama.cpp tool the pipeline built${torch}`, ...(feature ? { feature } : {}) };
  }
  if (described.source === "user") {
    const flags = feature ? switchableFeatures[feature].flags.join(" ") : "";
    const how = feature ? `rebuild your llama.cpp without ${label} (cmake -DCMAKE_C_FLAGS="${flags}" -DCMAKE_CXX_FLAGS="${flags}")` : "rebuild your llama.cpp for this CPU";
    return { message, hint: `${how}, or unset ${toolchainEnv.llamaCpp} and ${toolchainEnv.binDir} to use the managed build`, ...(feature ? { feature } : {}) };
  }
  return { message, hint: feature ? `rebuild without it: pipeline setup --without ${feature}` : "rebuild for this CPU: pipeline setup --without <extension> (pipeline doctor lists what the build uses)", ...(feature ? { feature } : {}) };
}
