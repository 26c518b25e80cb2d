import { PipelineError } from "@gguf-pipeline/core";

/** Some quants of a ladder failed; the others finished and are kept. */
export class LadderError extends PipelineError {
  readonly failures: { type: string; message: string }[];

  constructor(failures: { type: string; message: string }[]) {
    super({
      message: `${failures.length} quant(s) failed: ${failures.map((f) => `${f.type} (${f.message})`).join("; ")}`,
      exitCode: 1,
      hint: "the other quants are done and cached; fix the cause and run again to make only the failed ones",
    });
    this.failures = failures;
  }
}

/** llama-perplexity ran but its closing statistics could not be read. */
export class QualityParseError extends PipelineError {
  constructor(params: { file: string; missing: string }) {
    super({ message: `llama-perplexity printed no ${params.missing}`, exitCode: 1, file: params.file, hint: "run it by hand with the same arguments to see why" });
  }
}

/** A calibration or evaluation text too short for the context the tool is asked to use. */
export class TextTooShortError extends PipelineError {
  constructor(params: { file: string; tool: string; tokens: number; ctx: number; setting: string }) {
    const fits = Math.floor(params.tokens / 2);
    super({
      message: `${params.tokens} tokens for this model; ${params.tool} at ctx ${params.ctx} needs at least ${2 * params.ctx}`,
      exitCode: 2,
      file: params.file,
      hint: fits >= 8 ? `use a longer text, or set ${params.setting}.ctx to ${fits} or less` : `use a longer text (at least ${2 * params.ctx} tokens)`,
    });
  }
}

/** A mix's size target below the smallest file the mix types can make. */
export class MixTooSmallError extends PipelineError {
  /** `atLeast`: the smallest size is a bound (every weight at Q2_K's 2.625 bits), known before the model is converted. */
  constructor(params: { file: string; targetBytes: number; smallestBytes: number; atLeast?: boolean; fit?: { budget: string; ctx: number } }) {
    const what = params.fit ? `a mix for ${params.fit.budget} at ctx ${params.fit.ctx} cannot be made: what the budget leaves for the file (${params.targetBytes} bytes, after the KV cache, buffers, margin and reserve) is too small, and` : `a mix of ${params.targetBytes} bytes cannot be made:`;
    super({
      message: `${what} with every tensor group at Q2_K the file is ${params.atLeast ? "at least " : ""}${params.smallestBytes} bytes`,
      exitCode: 2,
      file: params.file,
      hint: params.fit ? "raise the budget, lower the context, or use a standard type such as IQ2_XXS" : `ask for ${params.smallestBytes} bytes or more, or use a standard type such as IQ2_XXS below that`,
    });
  }
}
