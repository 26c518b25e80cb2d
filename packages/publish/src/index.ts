export * from "./check-hub-access.js";
export * from "./errors.js";
export * from "./format-hub-plan.js";
export * from "./hub-endpoint.js";
export * from "./publish-to-hub.js";
export * from "./publish-types.js";
export * from "./write-model-card.js";
