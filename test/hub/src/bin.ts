#!/usr/bin/env node
// The local Hub on its own, for trying a release workflow offline: `npm run test-hub -- --port 8080 --token hf_...`.
// Prints its URL as the first line of stdout, then serves until SIGINT/SIGTERM.
import { parseArgs } from "node:util";
import { startHub } from "./start-hub.js";
import type { HubTokenInfo, StartHubParams } from "./types.js";

const usage = `usage: test-hub [--port P] [--dir D] [--token T [--user U] [--org O]...] [--read-token R] [--page-size N] [--multipart-threshold BYTES] [--chunk-size BYTES]
  --token        a write token (for --user, default "test-user"); without one, the built-in test tokens are accepted
  --read-token   a read-only token for the same user
  --dir          where repos and files are kept (default: a temp folder, removed on exit)`;

function integer(name: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min) throw new TypeError(`--${name} must be an integer of at least ${min}, got "${value}"`);
  return number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      dir: { type: "string" },
      token: { type: "string" },
      "read-token": { type: "string" },
      user: { type: "string", default: "test-user" },
      org: { type: "string", multiple: true },
      "page-size": { type: "string" },
      "multipart-threshold": { type: "string" },
      "chunk-size": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const user = values.user ?? "test-user";
  const orgs = values.org ?? [];
  const tokens: Record<string, HubTokenInfo> = {};
  if (values.token) tokens[values.token] = { user, role: "write", orgs };
  if (values["read-token"]) tokens[values["read-token"]] = { user, role: "read", orgs };
  const threshold = integer("multipart-threshold", values["multipart-threshold"]);
  const params: StartHubParams = {
    ...(values.dir ? { dir: values.dir } : {}),
    ...(values.port ? { port: integer("port", values.port, 0) ?? 0 } : {}),
    ...(Object.keys(tokens).length > 0 ? { tokens } : {}),
    ...(values["page-size"] ? { pageSize: integer("page-size", values["page-size"]) ?? 1000 } : {}),
    ...(threshold ? { multipart: { threshold, chunkSize: integer("chunk-size", values["chunk-size"]) ?? Math.max(1, Math.ceil(threshold / 2)) } } : {}),
  };
  const hub = await startHub(params);
  process.stdout.write(`${hub.url}\n`);
  process.stderr.write(`test-hub: serving ${hub.dir} at ${hub.url} (Ctrl-C to stop)\n`);
  const stop = (signal: string) => {
    process.stderr.write(`test-hub: ${signal}, stopping\n`);
    void hub.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
  process.stderr.write(`test-hub: ${error instanceof Error ? error.message : String(error)}\n${usage}\n`);
  process.exit(2);
});
