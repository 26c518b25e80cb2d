import { execa, ExecaError } from "execa";
import { CanceledError, ToolError } from "./errors.js";

export interface RunToolParams {
  /** Short name for messages and errors, e.g. `convert_hf_to_gguf.py`. */
  tool: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** The file the tool was working on, carried into errors. */
  file?: string;
  /** How many trailing output lines a failure keeps. */
  tailLines?: number;
}

export interface RunToolOutput {
  exitCode: number;
  /** The last lines of combined output. */
  tail: string[];
  /** Every line, for tools whose output is the result (small outputs only). */
  lines: string[];
}

/**
 * Runs a tool and yields its output line by line while it runs. Lines are split on `\n` and `\r`,
 * so tqdm-style progress bars arrive as they redraw. Failure becomes a ToolError with the output tail;
 * an aborted signal kills the tool (SIGTERM, SIGKILL after 5 s) and becomes a CanceledError.
 */
export async function* runTool(params: RunToolParams): AsyncGenerator<string, RunToolOutput> {
  const tailSize = params.tailLines ?? 30;
  const tail: string[] = [];
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    tail.push(line);
    if (tail.length > tailSize) tail.shift();
  };
  if (params.signal?.aborted) throw new CanceledError();
  const subprocess = execa(params.command, params.args, {
    cwd: params.cwd,
    env: { PYTHONUNBUFFERED: "1", ...params.env },
    all: true,
    buffer: false,
    stdin: "ignore",
    reject: true,
    ...(params.signal ? { cancelSignal: params.signal } : {}),
    forceKillAfterDelay: 5000,
  });
  try {
    let pending = "";
    if (subprocess.all) {
      for await (const chunk of subprocess.all) {
        pending += typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
        const parts = pending.split(/\r\n|\r|\n/);
        pending = parts.pop() ?? "";
        for (const part of parts) {
          const line = part.trimEnd();
          if (!line) continue;
          keep(line);
          yield line;
        }
      }
    }
    if (pending.trim()) {
      keep(pending.trimEnd());
      yield pending.trimEnd();
    }
    const result = await subprocess;
    return { exitCode: result.exitCode ?? 0, tail, lines };
  } catch (error) {
    // The consumer may stop iterating early (an exception upstream): make sure the tool does not outlive us.
    if (!subprocess.killed && subprocess.exitCode === null) subprocess.kill();
    if (error instanceof ExecaError) {
      if (error.isCanceled || params.signal?.aborted) throw new CanceledError({ message: `${params.tool} was interrupted` });
      throw new ToolError({
        tool: params.tool,
        message: `${params.tool} failed (${error.signal ? `killed by ${error.signal}` : `exit code ${error.exitCode}`}): ${lastMeaningfulLine(tail) ?? error.shortMessage}`,
        ...(error.exitCode !== undefined ? { toolExitCode: error.exitCode } : {}),
        ...(error.signal ? { signal: error.signal } : {}),
        stderrTail: tail.join("\n"),
        canceled: false,
        ...(params.file ? { file: params.file } : {}),
        cause: error,
      });
    }
    throw error;
  }
}

/** Drains runTool when the lines themselves are not needed live. */
export async function runToolToEnd(params: RunToolParams & { onLine?: (line: string) => void }): Promise<RunToolOutput> {
  const it = runTool(params);
  for (;;) {
    const next = await it.next();
    if (next.done) return next.value;
    params.onLine?.(next.value);
  }
}

function lastMeaningfulLine(tail: string[]): string | undefined {
  for (let i = tail.length - 1; i >= 0; i--) {
    const line = tail[i]?.trim();
    if (line && !/^\s*$/.test(line)) return line.length > 300 ? `${line.slice(0, 300)}…` : line;
  }
  return undefined;
}

/** A runTool generator as a plain line iterable (for `for await`), dropping its return value. */
export async function* linesOf(gen: AsyncGenerator<string, unknown>): AsyncGenerator<string> {
  for (;;) {
    const next = await gen.next();
    if (next.done) return;
    yield next.value;
  }
}
