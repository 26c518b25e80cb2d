export * from "./convert-adapter.js";
export * from "./errors.js";
export * from "./inspect-adapter.js";
export * from "./merge-adapters.js";
