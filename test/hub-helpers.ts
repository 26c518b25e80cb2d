import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { fixturesDir, toolchain } from "./helpers.js";

export function sha256(content: Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Git's own blob id for some content (`git hash-object`), to check the Hub's `oid` against a tool we did not write. */
export async function gitBlobOid(content: string | Uint8Array): Promise<string> {
  const { stdout } = await execa("git", ["hash-object", "--stdin"], { input: typeof content === "string" ? content : Buffer.from(content) });
  return stdout.trim();
}

/** The environment the Python client and llama.cpp read to talk to a Hub other than huggingface.co. */
export function hubClientEnv(params: { url: string; token?: string; home: string }): Record<string, string> {
  return {
    HF_ENDPOINT: params.url,
    MODEL_ENDPOINT: params.url,
    HF_HOME: params.home,
    HF_HUB_DISABLE_XET: "1",
    HF_HUB_DISABLE_TELEMETRY: "1",
    HF_HUB_DISABLE_PROGRESS_BARS: "1",
    NO_PROXY: "127.0.0.1,localhost",
    ...(params.token ? { HF_TOKEN: params.token } : {}),
  };
}

/** Runs test/fixtures/hub_client.py (the Python huggingface_hub client) and returns the JSON it printed. */
export async function pythonHubClient<T>(params: { url: string; token: string; home: string; args: string[] }): Promise<T> {
  const tc = await toolchain();
  const result = await execa(tc.python, [join(fixturesDir, "hub_client.py"), ...params.args], { env: hubClientEnv(params), reject: false });
  if (result.exitCode !== 0) throw new Error(`hub_client.py ${params.args.join(" ")} failed (${result.exitCode}):\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "null") as T;
}
