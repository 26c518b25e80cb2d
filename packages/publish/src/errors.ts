import { PipelineError } from "@gguf-pipeline/core";

/**
 * Publishing failed or cannot start. exitCode 2: the token, the settings or the output folder need fixing first;
 * 1: the Hub or the network failed (the re-run completes it). Never carries a token.
 */
export class PublishError extends PipelineError {
  /** The Hub repo concerned, if any. */
  readonly repo: string | undefined;
  /** The Hub's HTTP status, when the Hub answered. */
  readonly statusCode: number | undefined;

  constructor(params: { message: string; exitCode: 1 | 2; file?: string; hint?: string; repo?: string; statusCode?: number; cause?: unknown }) {
    super(params);
    this.repo = params.repo;
    this.statusCode = params.statusCode;
  }
}

/** A file to upload could not be read as the report describes it (gone, shorter, unreadable): never retried. */
export class LocalFileError extends PublishError {
  constructor(params: { file: string; message: string; cause?: unknown }) {
    super({ ...params, exitCode: 2, hint: "the output folder changed after the run: run the pipeline again, then publish" });
  }
}
