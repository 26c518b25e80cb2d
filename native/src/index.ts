export * from "./cache-layout.js";
export * from "./ensure-llama-cpp.js";
export * from "./ensure-python-env.js";
export * from "./ensure-toolchain.js";
export * from "./pin.js";
export * from "./tools.js";
export * from "./describe-toolchain.js";
export * from "./list-converter-architectures.js";
