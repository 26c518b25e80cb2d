import { InputError } from "@gguf-pipeline/core";

/** The source model folder cannot be converted as it is; `file` is the offending file or folder. */
export class SourceModelError extends InputError {}
