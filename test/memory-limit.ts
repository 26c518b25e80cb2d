import { access, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { constants } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";

/** A control group of its own with a hard memory limit and no swap: a process over the limit is killed by the OOM killer. */
export interface MemoryLimit {
  /** Runs a command inside the group; how it ended and the group's peak use. */
  run(command: string, args: string[]): Promise<{ exitCode?: number; killed: boolean; oomKilled: boolean; peakBytes?: number; stdout: string; stderr: string }>;
  remove(): Promise<void>;
}

/** A memory-limited group (cgroup v1 or v2), or why this machine cannot make one (not root, no memory controller, swap). */
export async function memoryLimit(params: { name: string; bytes: number }): Promise<MemoryLimit | { unavailable: string }> {
  const v1 = "/sys/fs/cgroup/memory";
  const v2 = "/sys/fs/cgroup";
  try {
    if (await writable(join(v1, "cgroup.procs"))) return await groupV1(join(v1, params.name), params.bytes);
    const controllers = await readFile(join(v2, "cgroup.controllers"), "utf8").catch(() => "");
    if (controllers.split(/\s+/).includes("memory") && (await writable(join(v2, "cgroup.subtree_control")))) return await groupV2(join(v2, params.name), params.bytes);
    return { unavailable: "no writable memory cgroup (v1 or v2) here: run as root in a machine or container that allows it" };
  } catch (error) {
    return { unavailable: `a memory cgroup could not be made: ${(error as Error).message}` };
  }
}

async function writable(file: string): Promise<boolean> {
  return access(file, constants.W_OK).then(() => true, () => false);
}

async function groupV1(dir: string, bytes: number): Promise<MemoryLimit> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "memory.limit_in_bytes"), String(bytes));
  // With swap, a process over the limit pages out instead of dying: limit memory and swap together where we can.
  if (await writable(join(dir, "memory.memsw.limit_in_bytes"))) await writeFile(join(dir, "memory.memsw.limit_in_bytes"), String(bytes));
  else if (!(await noSwap())) throw new Error("swap is on and memory+swap cannot be limited");
  const oomKills = async () => Number(/oom_kill (\d+)/.exec(await readFile(join(dir, "memory.oom_control"), "utf8"))?.[1] ?? 0);
  return {
    run: async (command, args) => {
      await writeFile(join(dir, "memory.max_usage_in_bytes"), "0");
      const before = await oomKills();
      const result = await inGroup(join(dir, "cgroup.procs"), command, args);
      const peakBytes = Number(await readFile(join(dir, "memory.max_usage_in_bytes"), "utf8"));
      return { ...result, oomKilled: (await oomKills()) > before, peakBytes };
    },
    remove: () => rmdir(dir).catch(() => undefined),
  };
}

async function groupV2(dir: string, bytes: number): Promise<MemoryLimit> {
  await writeFile("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "memory.max"), String(bytes));
  await writeFile(join(dir, "memory.swap.max"), "0").catch(async () => {
    if (!(await noSwap())) throw new Error("swap is on and memory.swap.max cannot be set");
  });
  const oomKills = async () => Number(/oom_kill (\d+)/.exec(await readFile(join(dir, "memory.events"), "utf8"))?.[1] ?? 0);
  return {
    run: async (command, args) => {
      const before = await oomKills();
      const result = await inGroup(join(dir, "cgroup.procs"), command, args);
      const peak = await readFile(join(dir, "memory.peak"), "utf8").catch(() => "");
      return { ...result, oomKilled: (await oomKills()) > before, ...(peak ? { peakBytes: Number(peak) } : {}) };
    },
    remove: () => rmdir(dir).catch(() => undefined),
  };
}

async function noSwap(): Promise<boolean> {
  return /SwapTotal:\s+0 kB/.test(await readFile("/proc/meminfo", "utf8"));
}

/** The command started in the group: a shell joins it, then becomes the command. */
async function inGroup(procs: string, command: string, args: string[]): Promise<{ exitCode?: number; killed: boolean; stdout: string; stderr: string }> {
  const run = await execa("sh", ["-c", `echo $$ > "$0" && exec "$@"`, procs, command, ...args], { reject: false, stdin: "ignore" });
  return { ...(run.exitCode === undefined ? {} : { exitCode: run.exitCode }), killed: run.signal === "SIGKILL", stdout: run.stdout, stderr: run.stderr };
}
