import { createServer } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { AddressInfo } from "node:net";
import type { HubContext, Route } from "./context.js";
import { FaultSet } from "./faults.js";
import { handleRequest } from "./handle-request.js";
import { ObjectStore } from "./object-store.js";
import { OllamaBlobs } from "./ollama/ollama-blobs.js";
import { RepoStore } from "./repo-store.js";
import { accountRoutes } from "./routes/account.js";
import { cdnRoutes } from "./routes/cdn.js";
import { commitRoutes } from "./routes/commit.js";
import { lfsBatchRoutes } from "./routes/lfs-batch.js";
import { lfsUploadRoutes } from "./routes/lfs-upload.js";
import { ollamaRegistryRoutes } from "./routes/ollama-registry.js";
import { preuploadRoutes } from "./routes/preupload.js";
import { repoInfoRoutes } from "./routes/repo-info.js";
import { resolveRoutes } from "./routes/resolve.js";
import { treeRoutes } from "./routes/tree.js";
import { validateYamlRoutes } from "./routes/validate-yaml.js";
import type { HubRequest, HubServer, StartHubParams } from "./types.js";
import { UrlSigner } from "./url-signer.js";

/** Accepted when `tokens` is not given: write and read tokens of "test-user" (in the shape the clients check: `hf_` + 34 letters/digits). */
export const DEFAULT_WRITE_TOKEN = "hf_testhubwritetoken0000000000000000";
export const DEFAULT_READ_TOKEN = "hf_testhubreadtoken00000000000000000";

// API routes first; `resolve` last, since its pattern would take any path of four segments or more (`/v2/…` too).
const routes: Route[] = [...accountRoutes, ...validateYamlRoutes, ...repoInfoRoutes, ...preuploadRoutes, ...commitRoutes, ...treeRoutes, ...lfsBatchRoutes, ...lfsUploadRoutes, ...cdnRoutes, ...ollamaRegistryRoutes, ...resolveRoutes];

/** Starts a local Hugging Face Hub on 127.0.0.1 (a free port unless `port` is given). */
export async function startHub(params: StartHubParams = {}): Promise<HubServer> {
  const ownDir = params.dir === undefined;
  const dir = params.dir === undefined ? await mkdtemp(join(tmpdir(), "test-hub-")) : resolve(params.dir);
  const repos = new RepoStore(dir);
  await repos.load();
  const hub: HubContext = {
    baseUrl: "",
    repos,
    objects: new ObjectStore(dir),
    tokens: params.tokens ?? { [DEFAULT_WRITE_TOKEN]: { user: "test-user", role: "write" }, [DEFAULT_READ_TOKEN]: { user: "test-user", role: "read" } },
    multipart: params.multipart ?? { threshold: 20_000_000, chunkSize: 10_000_000 },
    pageSize: params.pageSize ?? 1000,
    signer: new UrlSigner(),
    uploads: new Map(),
    ollama: new OllamaBlobs(),
  };
  if (!(hub.multipart.chunkSize > 0) || !(hub.pageSize > 0)) throw new TypeError("startHub: multipart.chunkSize and pageSize must be positive");
  const faults = new FaultSet();
  let log: HubRequest[] = [];
  const server = createServer((req, res) => void handleRequest({ req, res, hub, routes, faults, log }));
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(params.port ?? 0, "127.0.0.1", () => done());
  });
  const { port } = server.address() as AddressInfo;
  hub.baseUrl = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    url: hub.baseUrl,
    port,
    dir,
    get requests() {
      return log;
    },
    writeRequests: () => log.filter((r) => r.write),
    clearRequests: () => {
      log = [];
    },
    inject: (fault) => faults.inject(fault),
    clearFaults: () => faults.clear(),
    stop: () =>
      (stopped ??= (async () => {
        await new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        });
        if (ownDir) await rm(dir, { recursive: true, force: true });
      })()),
  };
}
