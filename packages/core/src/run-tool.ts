import { execa, ExecaError } from "execa";
import { CanceledError, IllegalInstructionError, ToolchainError, ToolError } from "./errors.js";

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
  /** What to tell the user when the tool fails. */
  hint?: string;
  /** How many trailing output lines a failure keeps. */
  tailLines?: number;
}

export interface RunToolOutput {
  exitCode: number;
  /** Standard output alone (the tool's result, without its log lines on stderr). */
  stdout: string;
  /** The same bytes as written (a tool may print bytes that are not UTF-8: llama-tokenize's byte tokens). */
  stdoutBytes: Buffer;
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
    // Tools run offline and never see Hub tokens: nothing they do needs either, and a token must not reach a log.
    env: { PYTHONUNBUFFERED: "1", HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1", HF_TOKEN: undefined, HUGGING_FACE_HUB_TOKEN: undefined, ...params.env },
    all: true,
    buffer: false,
    stdin: "ignore",
    reject: true,
    ...(params.signal ? { cancelSignal: params.signal } : {}),
    forceKillAfterDelay: 5000,
  });
  // Decoded once at the end: a character split between two reads stays whole.
  const out: Buffer[] = [];
  subprocess.stdout?.on("data", (chunk: Buffer | string) => {
    out.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
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
    const stdoutBytes = Buffer.concat(out);
    return { exitCode: result.exitCode ?? 0, stdout: stdoutBytes.toString("utf8"), stdoutBytes, tail, lines };
  } catch (error) {
    if (error instanceof ExecaError && error.code === "ENOENT") {
      throw new ToolchainError({ file: params.command, message: `${params.tool}: program not found`, hint: `install it or fix the path (\`pipeline doctor\` shows what is missing)`, cause: error });
    }
    if (error instanceof ExecaError) {
      if (error.isCanceled || params.signal?.aborted || (await interruptedWithTheRun(error, params.signal))) throw new CanceledError({ message: `${params.tool} was interrupted` });
      if (error.signal === "SIGILL") {
        throw new IllegalInstructionError({
          tool: params.tool,
          message: `${params.tool} was killed by SIGILL (an illegal instruction)`,
          signal: error.signal,
          stderrTail: tail.join("\n"),
          canceled: false,
          command: params.command,
          args: params.args,
          ...(params.cwd ? { cwd: params.cwd } : {}),
          ...(params.file ? { file: params.file } : {}),
          cause: error,
        });
      }
      throw new ToolError({
        tool: params.tool,
        message: `${params.tool} failed (${how(error)}): ${headlineOf(tail, lines) ?? "it printed nothing"}`,
        ...(error.exitCode !== undefined ? { toolExitCode: error.exitCode } : {}),
        ...(error.signal ? { signal: error.signal } : {}),
        stderrTail: tail.join("\n"),
        canceled: false,
        ...(params.file ? { file: params.file } : {}),
        ...(params.hint ? { hint: params.hint } : {}),
        cause: error,
      });
    }
    throw error;
  } finally {
    // Reached also when the consumer stops iterating early: the tool must not outlive its caller.
    if (subprocess.exitCode === null && subprocess.signalCode === null) {
      subprocess.kill();
      await subprocess.catch(() => undefined);
    }
  }
}

/** How a tool ended. Nobody here sends SIGKILL but the 5 s after a cancel: from elsewhere it is most often the kernel. */
function how(error: ExecaError): string {
  if (!error.signal) return `exit code ${error.exitCode}`;
  return error.signal === "SIGKILL" ? "killed by SIGKILL: out of memory?" : `killed by ${error.signal}`;
}

/**
 * A terminal's Ctrl-C reaches every process of the foreground group at once: the tool may die of it before our own
 * handler has aborted the run's signal. A tool stopped by SIGINT/SIGTERM (or exiting 130/143, as tools that catch it do)
 * is the run's interruption if the run's signal aborts within a moment; a tool signalled on its own is its failure.
 */
async function interruptedWithTheRun(error: ExecaError, signal: AbortSignal | undefined): Promise<boolean> {
  const byInterrupt = error.signal === "SIGINT" || error.signal === "SIGTERM" || error.exitCode === 130 || error.exitCode === 143;
  if (!byInterrupt || !signal) return false;
  if (signal.aborted) return true;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(signal.aborted);
    }, 2000);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
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

/**
 * The line that says what went wrong: the last error-looking line (a Python exception, llama.cpp's `error:`/`failed`,
 * an assertion), else the last line that is not a progress bar. A converter that runs out of disk prints its
 * `OSError` and then a last redraw of its progress bar: the headline is the OSError.
 */
export function headlineOf(tail: string[], all: string[] = tail): string | undefined {
  const lines = tail.map((l) => l.trim()).filter(Boolean);
  const progress = /\d+%\|/;
  const error = /^(\w+\.)*\w*(Error|Exception)\b|\berror\b|\bfailed\b|\binvalid\b|GGML_ASSERT|No space left|Killed|abort/i;
  const isError = (l: string) => error.test(l) && !progress.test(l);
  // A tool that prints its usage after the error (llama-quantize: ~90 lines) pushes the error out of the tail.
  const earlier = () => [...all].reverse().map((l) => l.trim()).find(isError);
  const found = [...lines].reverse().find(isError) ?? earlier() ?? [...lines].reverse().find((l) => !progress.test(l)) ?? lines.at(-1);
  const line = found && found.length > 300 ? `${found.slice(0, 300)}…` : found;
  // numpy's tofile (the converters write tensors with it) reports a full disk only as a short write.
  return line && /\bOSError: \d+ requested and \d+ written$/.test(line) ? `${line} (a short write: the disk is probably full)` : line;
}

/** A runTool generator as a plain line iterable (for `for await`), dropping its return value. */
export async function* linesOf(gen: AsyncGenerator<string, unknown>): AsyncGenerator<string> {
  try {
    for (;;) {
      const next = await gen.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Pass an early stop on, so the tool is stopped too.
    await gen.return(undefined);
  }
}
