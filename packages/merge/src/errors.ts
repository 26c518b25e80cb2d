import { InputError } from "@gguf-pipeline/core";

/** A PEFT adapter that cannot be converted or merged as it is; `file` is the adapter's folder or file. */
export class AdapterError extends InputError {}
