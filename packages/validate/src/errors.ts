import { PipelineError } from "@gguf-pipeline/core";

/** A license that forbids or does not allow what the recipe asks: a missing license, a contradiction, a stricter part. */
export class LicenseError extends PipelineError {
  constructor(params: { file: string; message: string; hint: string }) {
    super({ ...params, exitCode: 2 });
  }
}
