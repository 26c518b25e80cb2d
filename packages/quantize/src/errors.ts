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
