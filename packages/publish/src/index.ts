export * from "./publish-types.js";
