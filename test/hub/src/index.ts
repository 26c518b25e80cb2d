export * from "./start-hub.js";
export * from "./types.js";
