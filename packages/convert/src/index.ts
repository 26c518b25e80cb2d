export * from "./convert-model.js";
export * from "./errors.js";
export * from "./gguf-model-name.js";
export * from "./inspect-source.js";
export * from "./metadata-override.js";
export * from "./plan-convert.js";
export * from "./shadow-source.js";
export * from "./supported-architectures.js";
