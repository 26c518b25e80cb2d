import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { goToolBin } from "./go-tool-bin.js";
import { spawnServer } from "./spawn-server.js";

export interface StartOllamaParams {
  /** More OLLAMA_* settings for this server. */
  env?: Record<string, string>;
}

export interface OllamaServer {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT` (what OLLAMA_HOST and the `ollama` client take). */
  host: string;
  /** Its HOME: `ollama serve` writes its key pair to ~/.ollama. */
  home: string;
  /** OLLAMA_MODELS: blobs and manifests. */
  models: string;
  bin: string;
  logs(): string;
  logMark(): number;
  logsSince(mark: number): string;
  /** Stops the server and its model runners and removes its folders. */
  stop(): Promise<void>;
}

/** A real `ollama serve` (the pinned build) on a free loopback port, with its own HOME and model store. */
export async function startOllama(params: StartOllamaParams = {}): Promise<OllamaServer> {
  const bin = await goToolBin("ollama");
  const home = await mkdtemp(join(tmpdir(), "gguf-pipeline-ollama-"));
  const models = join(home, "models");
  await mkdir(models, { recursive: true });
  const host = `127.0.0.1:${await freePort()}`;
  const url = `http://${host}`;
  const server = await spawnServer({
    name: "ollama serve",
    command: bin,
    args: ["serve"],
    env: {
      HOME: home,
      OLLAMA_HOST: host,
      OLLAMA_MODELS: models,
      // One model, one request at a time: the tests are small and the machines have 2 cores.
      OLLAMA_NUM_PARALLEL: "1",
      OLLAMA_MAX_LOADED_MODELS: "1",
      ...params.env,
    },
    readyUrl: `${url}/api/version`,
    tempDirs: [home],
  });
  return { url, host, home, models, bin, logs: server.logs, logMark: server.logMark, logsSince: server.logsSince, stop: server.stop };
}
