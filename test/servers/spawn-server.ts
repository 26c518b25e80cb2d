import { rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";

export interface SpawnServerParams {
  /** Short name for errors. */
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Polled until it answers with `readyStatus`. */
  readyUrl: string;
  readyStatus?: number;
  timeoutMs?: number;
  /** Removed on stop. */
  tempDirs?: string[];
}

export interface SpawnedServer {
  pid: number;
  /** The server's last output lines (2,000 at most), for a failing test's message. */
  logs(): string;
  /** How many whole lines it has written so far: a mark for `logsSince`. */
  logMark(): number;
  /** Its whole lines written after `mark` (those still kept). */
  logsSince(mark: number): string;
  stop(): Promise<void>;
}

/**
 * Starts a server in its own process group and waits until it answers. Only the
 * variables given (and PATH) reach it, so a developer's own OLLAMA_* settings cannot change a test. stop() ends the whole group (Ollama's model
 * runners are its children), SIGKILL after 5 s; a test process that dies first kills the group on its way out.
 */
export async function spawnServer(params: SpawnServerParams): Promise<SpawnedServer> {
  const child = execa(params.command, params.args, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...params.env }, extendEnv: false, detached: true, stdin: "ignore", all: true, buffer: false, reject: false });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${params.name}: could not start ${params.command}`);
  const tail: string[] = [];
  let total = 0;
  // A chunk may end inside a line: the rest waits for the next.
  let partial = "";
  child.all?.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    total += lines.length;
    tail.push(...lines);
    tail.splice(0, Math.max(0, tail.length - 2000));
  });
  let exited = false;
  const done = child.then(() => void (exited = true));
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  };
  const onExit = () => killGroup("SIGKILL");
  process.once("exit", onExit);
  const stop = async () => {
    process.off("exit", onExit);
    killGroup("SIGTERM");
    const patience = new AbortController();
    void sleep(5000, undefined, { signal: patience.signal }).then(() => killGroup("SIGKILL"), () => undefined);
    await done;
    patience.abort();
    // Children that outlived the leader (a model runner) go too.
    killGroup("SIGKILL");
    for (const dir of params.tempDirs ?? []) await rm(dir, { recursive: true, force: true });
  };
  const logs = () => [...tail, partial].filter(Boolean).join("\n");
  const logMark = () => total;
  const logsSince = (mark: number) => tail.slice(Math.max(0, tail.length - (total - mark))).join("\n");
  const deadline = Date.now() + (params.timeoutMs ?? 30_000);
  for (;;) {
    const status = await fetch(params.readyUrl).then((r) => r.status, () => 0);
    if (status === (params.readyStatus ?? 200)) return { pid, logs, logMark, logsSince, stop };
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`${params.name} did not answer ${params.readyUrl} (${exited ? "it exited" : `last status ${status}`}):\n${logs()}`);
    }
    await sleep(100);
  }
}
