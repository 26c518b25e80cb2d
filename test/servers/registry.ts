import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { startBlobCdn } from "./start-blob-cdn.js";
import { goToolBin } from "./go-tool-bin.js";
import { spawnServer } from "./spawn-server.js";

export interface RegistryServer {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT`: the first part of an image name pushed here. */
  host: string;
  /** Its filesystem storage. */
  storage: string;
  /** Where blob downloads are redirected (`http://localhost:PORT`). */
  cdn: string;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * A real OCI distribution registry (plain HTTP, no auth, deletes enabled) on a free loopback port, storing in a temp
 * folder, with blob downloads redirected to a file server over the same storage (see startBlobCdn).
 */
export async function startRegistry(): Promise<RegistryServer> {
  const bin = await goToolBin("registry");
  const dir = await mkdtemp(join(tmpdir(), "gguf-pipeline-registry-"));
  const storage = join(dir, "storage");
  await mkdir(storage, { recursive: true });
  const cdn = await startBlobCdn({ root: storage });
  const host = `127.0.0.1:${await freePort()}`;
  const config = join(dir, "config.yml");
  // JSON is YAML: the registry reads this as its config file.
  const settings = {
    version: "0.1",
    log: { level: "warn", accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: storage }, delete: { enabled: true } },
    // Blob downloads answer 307 to the CDN, as registry.ollama.ai does: Ollama's pull accepts nothing else.
    middleware: { storage: [{ name: "redirect", options: { baseurl: cdn.url } }] },
    // A secret of its own, or it warns that it made one up.
    http: { addr: host, secret: randomUUID() },
  };
  await writeFile(config, `${JSON.stringify(settings, null, 2)}\n`);
  const server = await spawnServer({
    name: "registry",
    command: bin,
    args: ["serve", config],
    // v3 exports traces over OTLP by default; there is no collector here.
    env: { HOME: dir, OTEL_TRACES_EXPORTER: "none" },
    readyUrl: `http://${host}/v2/`,
    tempDirs: [dir],
  }).catch(async (error: unknown) => {
    await cdn.stop();
    throw error;
  });
  const stop = async () => {
    await server.stop();
    await cdn.stop();
  };
  return { url: `http://${host}`, host, storage, cdn: cdn.url, logs: server.logs, stop };
}
