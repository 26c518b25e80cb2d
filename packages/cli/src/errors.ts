import { PipelineError } from "@gguf-pipeline/core";

/** Bad command-line usage: exit code 2. */
export class UsageError extends PipelineError {
  constructor(message: string, hint = "run `pipeline --help`") {
    super({ message, exitCode: 2, hint });
  }
}
