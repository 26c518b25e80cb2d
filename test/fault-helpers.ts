import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { cliBin, jsonEvents, listTree, repoRoot } from "./helpers.js";

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/** sha256 of every GGUF in an output folder (models, adapters, the importance matrix), by name. */
export async function ggufHashes(outDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(outDir)).filter((n) => n.endsWith(".gguf")).sort()) out[name] = await sha256File(join(outDir, name));
  return out;
}

/** What a killed run may leave: a partial output (`.X.partial-PID…`) or temporary bookkeeping (`….PID.tmp`). */
export const leftoverPattern = /(^|\/)\.[^/]+\.partial-\d+|\.\d+\.tmp$/;

export async function leftovers(outDir: string): Promise<string[]> {
  return (await listTree(outDir)).filter((f) => leftoverPattern.test(f));
}

/** The stderr lines a user sees (trailing blank lines dropped). */
export function stderrLines(result: { stderr?: unknown }): string[] {
  return String(result.stderr ?? "").split("\n").filter((line) => line.trim() !== "");
}

/** A string as a regular expression that matches it literally. */
export function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export interface InterruptParams {
  args: string[];
  /** The stage (an exact name or a pattern) whose `start` event arms the trigger. */
  stage: string | RegExp;
  signal: "SIGINT" | "SIGKILL";
  /**
   * When to send it once the stage started: at once; when a file matching the pattern appears in the output folder or
   * its `.pipeline` (a partial output being written); or when a condition becomes true.
   */
  when: "start" | RegExp | (() => boolean);
  outDir: string;
  env?: Record<string, string>;
}

export interface Interrupted {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  pid: number;
  /** Whether the signal was sent (the stage started and the trigger came). */
  sent: boolean;
  /** The file the trigger saw, when it waited for one. */
  seen?: string;
  /** Whether the stage had already finished (its `done` event) when the signal went out. */
  stageDoneBefore: boolean;
}

/**
 * Runs `pipeline run … --json` in its own process group and signals the whole group (a terminal's Ctrl-C reaches
 * every process of the foreground group; a SIGKILL of the group is a power cut for the run and its tool) at a chosen
 * moment of one stage.
 */
export async function interruptRun(params: InterruptParams): Promise<Interrupted> {
  const child = execa("node", [cliBin, ...params.args, "--json"], { reject: false, cwd: repoRoot, detached: true, env: { CI: "1", ...params.env } });
  const pid = child.pid ?? 0;
  const matches = (stage: unknown) => (typeof params.stage === "string" ? stage === params.stage : params.stage.test(String(stage)));
  let armed = false;
  let sent = false;
  let seen: string | undefined;
  let stageDone = false;
  let stageDoneBefore = false;
  let pending = "";
  const fire = () => {
    if (sent) return;
    sent = true;
    stageDoneBefore = stageDone;
    try {
      process.kill(-pid, params.signal);
    } catch {
      // already gone
    }
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const event of jsonEvents(lines.join("\n"))) {
      if (!matches(event.stage)) continue;
      if (event.type === "start") armed = true;
      if (event.type === "done" || event.type === "artifact") stageDone = true;
    }
  });
  // Polled rather than watched: the folder may not exist yet, and a tiny model's partial lives for milliseconds.
  const poll = (async () => {
    while (!sent && child.exitCode === null && child.signalCode === null) {
      if (armed) {
        if (params.when === "start") fire();
        else if (typeof params.when === "function") {
          if (params.when()) fire();
        } else {
          const names = [...(await readdir(params.outDir).catch(() => [])), ...(await readdir(join(params.outDir, ".pipeline")).catch(() => []))];
          const found = names.find((n) => (params.when as RegExp).test(n));
          if (found) {
            seen = found;
            fire();
          }
        }
      }
      if (!sent) await sleep(3);
    }
  })();
  const result = await child;
  await poll;
  return { exitCode: result.exitCode, signal: result.signal, stdout: String(result.stdout), stderr: String(result.stderr), pid, sent, ...(seen ? { seen } : {}), stageDoneBefore };
}

/** Finds a running process of this machine whose command line matches (e.g. the converter writing into one folder). */
export async function findProcess(match: (cmdline: string) => boolean): Promise<number | undefined> {
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(join("/proc", entry, "cmdline"), "utf8").catch(() => "");
    if (cmdline && match(cmdline.replaceAll("\0", " "))) return Number(entry);
  }
  return undefined;
}

/** Mounts a small tmpfs (root only); the reason it could not, otherwise. */
export async function mountTmpfs(dir: string, size: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  await mkdir(dir, { recursive: true });
  if (process.getuid?.() !== 0) return { ok: false, reason: "mounting a tmpfs needs root" };
  const result = await execa("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { reject: false });
  return result.exitCode === 0 ? { ok: true } : { ok: false, reason: `mount -t tmpfs refused: ${result.stderr.trim() || `exit ${result.exitCode}`}` };
}

export async function unmount(dir: string): Promise<void> {
  await execa("umount", [dir], { reject: false });
  await rm(dir, { recursive: true, force: true });
}
