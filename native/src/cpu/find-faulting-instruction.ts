import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { execa } from "execa";
import { featureOfInstruction, type CpuFeature } from "./cpu-features.js";

export interface FindFaultingInstructionParams {
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** gdb gives up after this long (default 120 s): the fault is looked for, never waited on forever. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface FaultingInstruction {
  /** As gdb disassembles it: `tilezero %tmm4`. */
  instruction: string;
  /** The function it is in, where gdb knows it. */
  function?: string;
  /** The extension it belongs to, where the table knows it. */
  feature?: CpuFeature;
}

/**
 * Runs a command that died of SIGILL again under gdb (when there is one) and reads the instruction it stopped on: the
 * exact extension a build must do without, instead of a guess. Undefined without gdb, or when the run does not fault
 * again (a fault that depends on timing or on the threads' order).
 */
export async function findFaultingInstruction(params: FindFaultingInstructionParams): Promise<FaultingInstruction | undefined> {
  const gdb = onPath("gdb", params.env);
  if (!gdb) return undefined;
  const run = await execa(gdb, ["-q", "-nx", "-batch", "-ex", "set pagination off", "-ex", "set startup-with-shell off", "-ex", "run", "-ex", "x/i $pc", "-ex", "bt 1", "--args", params.command, ...params.args], {
    reject: false,
    all: true,
    stdin: "ignore",
    timeout: params.timeoutMs ?? 120_000,
    ...(params.cwd ? { cwd: params.cwd } : {}),
    ...(params.env ? { env: params.env, extendEnv: false } : {}),
    ...(params.signal ? { cancelSignal: params.signal } : {}),
  });
  return parseGdbFault(run.all ?? "");
}

/** gdb's words for a SIGILL stop: `=> 0x…:\ttilezero %tmm4` from `x/i $pc`, the function from the stop line or `bt`. */
export function parseGdbFault(output: string): FaultingInstruction | undefined {
  if (!/received signal SIGILL/.test(output)) return undefined;
  const at = /^=> 0x[0-9a-f]+(?: <([^>]+)>)?:\s+(.+)$/m.exec(output);
  const instruction = at?.[2]?.trim();
  if (!instruction) return undefined;
  const found = /received signal SIGILL[^\n]*\n0x[0-9a-f]+ in (.+?) \(/.exec(output)?.[1] ?? /^#0\s+(?:0x[0-9a-f]+ in )?(.+?) \(/m.exec(output)?.[1] ?? at?.[1]?.replace(/\+\d+$/, "");
  // A C++ name comes with its parameter list: the name is enough.
  const fn = found?.replace(/\((?:[^()]|\([^()]*\))*\)$/, "");
  const feature = featureOfInstruction(instruction);
  return { instruction, ...(fn ? { function: fn } : {}), ...(feature ? { feature } : {}) };
}

function onPath(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}
