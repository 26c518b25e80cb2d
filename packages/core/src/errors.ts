/**
 * Errors carry the facts a user needs to act: the file, what is wrong, what to do.
 * `exitCode` follows the CLI contract: 2 for bad input or usage, 1 for a stage that failed.
 */
export class PipelineError extends Error {
  readonly exitCode: 1 | 2;
  readonly file: string | undefined;
  readonly hint: string | undefined;

  constructor(params: { message: string; exitCode: 1 | 2; file?: string; hint?: string; cause?: unknown }) {
    super(params.message, { cause: params.cause });
    this.name = new.target.name;
    this.exitCode = params.exitCode;
    this.file = params.file;
    this.hint = params.hint;
  }

  /** One line: `file: what is wrong — what to do`. */
  toLine(): string {
    const where = this.file ? `${this.file}: ` : "";
    const fix = this.hint ? ` — ${this.hint}` : "";
    return `${where}${this.message}${fix}`;
  }
}

/** A recipe that does not match the schema: carries the JSON path and the line in the user's file. */
export class RecipeError extends PipelineError {
  readonly jsonPath: string;
  readonly line: number | undefined;

  constructor(params: { file: string; jsonPath: string; line?: number; message: string; hint?: string }) {
    super({ message: params.message, exitCode: 2, file: params.line ? `${params.file}:${params.line}` : params.file, ...(params.hint ? { hint: params.hint } : {}) });
    this.jsonPath = params.jsonPath;
    this.line = params.line;
  }
}

/** Input files (model folder, safetensors, config) that cannot be used as they are. */
export class InputError extends PipelineError {
  constructor(params: { file: string; message: string; hint: string; cause?: unknown }) {
    super({ ...params, exitCode: 2 });
  }
}

/** A llama.cpp tool (or the Python converter) exited non-zero or was killed. */
export class ToolError extends PipelineError {
  readonly tool: string;
  readonly toolExitCode: number | undefined;
  readonly signal: string | undefined;
  readonly stderrTail: string;
  readonly canceled: boolean;

  constructor(params: {
    tool: string;
    message: string;
    toolExitCode?: number;
    signal?: string;
    stderrTail: string;
    canceled: boolean;
    file?: string;
    hint?: string;
    cause?: unknown;
  }) {
    super({ ...params, exitCode: 1 });
    this.tool = params.tool;
    this.toolExitCode = params.toolExitCode;
    this.signal = params.signal;
    this.stderrTail = params.stderrTail;
    this.canceled = params.canceled;
  }
}

/**
 * A tool killed by SIGILL: its machine code holds an instruction this CPU does not run (a build tuned for another CPU),
 * or one the CPU advertises but faulted on (ggml's AMX kernels on some Intel machines). Never one failure among others:
 * the whole toolchain is suspect, so it ends the run with one line (see the CLI) instead of failing a quant or a check.
 */
export class IllegalInstructionError extends ToolError {
  /** The program and arguments, so the fault can be looked at again (under gdb) or run by hand. */
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string | undefined;

  constructor(params: ConstructorParameters<typeof ToolError>[0] & { command: string; args: readonly string[]; cwd?: string }) {
    super(params);
    this.command = params.command;
    this.args = params.args;
    this.cwd = params.cwd;
  }
}

/** The run was interrupted (SIGINT/SIGTERM or an aborted signal). */
export class CanceledError extends PipelineError {
  constructor(params: { message?: string } = {}) {
    super({ message: params.message ?? "canceled", exitCode: 1 });
  }
}

/** Missing or broken toolchain (llama.cpp build, Python env). */
export class ToolchainError extends PipelineError {
  constructor(params: { message: string; hint: string; file?: string; cause?: unknown }) {
    super({ ...params, exitCode: 1 });
  }
}
