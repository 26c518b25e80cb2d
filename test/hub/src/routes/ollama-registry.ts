import type { Call, HubContext, Route } from "../context.js";
import { readableRepo } from "../context.js";
import { HubError, revisionNotFound } from "../hub-error.js";
import { mediaTypes } from "../ollama/media-types.js";
import { canReply } from "../reply.js";
import type { FileEntry, Repo } from "../repo-store.js";
import { cdnUrl } from "./cdn.js";

/**
 * The challenge a 401 carries. Ollama answers a 401 by asking the realm for a token, signed with its own key (which
 * the Hub matches against keys users add to their accounts); /v2/token refuses every key here, so the pull fails with
 * the Hub's own words, as it does on the Hub for a private repo without a registered key.
 */
function challenge(hub: HubContext, name: string): string {
  return `Bearer realm="${hub.baseUrl}/v2/token",service="${new URL(hub.baseUrl).host}",scope="repository:${name}:pull"`;
}

/** The repo a registry path names, in any case (the Hub takes repo ids so); private ones need the Bearer token. */
function registryRepo(call: Call): Repo {
  const given = `${call.params[0] ?? ""}/${call.params[1] ?? ""}`;
  const name = call.hub.repos.find(given)?.record.name ?? given;
  try {
    return readableRepo(call, name);
  } catch (error) {
    if (error instanceof HubError && error.status === 401) {
      throw new HubError({ status: 401, message: error.message, code: error.code, headers: { ...error.headers, "WWW-Authenticate": challenge(call.hub, name) } });
    }
    throw error;
  }
}

/** `GET|HEAD /v2/{ns}/{repo}/manifests/{tag}`: built from the main branch's files at each request. */
async function manifest(call: Call): Promise<void> {
  const repo = registryRepo(call);
  const main = call.hub.repos.resolve(repo, "main");
  if (!main) throw revisionNotFound("main");
  // Loaded on the first pull only: @huggingface/gguf and the template converter are not small.
  const { buildOllamaManifest } = await import("../ollama/build-manifest.js");
  const built = await buildOllamaManifest({ hub: call.hub, repo, commit: main.commit, tag: call.params[2] ?? "latest" });
  if (!canReply(call.res)) return;
  call.res.writeHead(200, { "Content-Type": mediaTypes.manifest, "Content-Length": built.body.length, "Docker-Content-Digest": built.digest });
  call.res.end(call.req.method === "HEAD" ? undefined : built.body);
}

/** A file of any of the repo's commits with this content (a pull may start just before a commit lands). */
function storedFile(repo: Repo, sha256: string): FileEntry | undefined {
  for (const commit of repo.commits.values()) {
    const entry = Object.values(commit.files).find((e) => e.sha256 === sha256);
    if (entry) return entry;
  }
  return undefined;
}

/**
 * The download host for blobs: the same server under `localhost`. Ollama follows a blob's redirects while they stay
 * on the registry's host name and takes the first redirect elsewhere as the download URL; it fails on a 200, on any
 * status but 307, and on a chain that never leaves the host (server/download.go, `blobDownload.run`).
 */
function downloadBase(hub: HubContext): string {
  return hub.baseUrl.replace("://127.0.0.1:", "://localhost:");
}

/**
 * `HEAD /v2/{ns}/{repo}/blobs/sha256:{hex}` answers the size (Ollama sizes its download parts by Content-Length);
 * GET answers 307 to a presigned URL, where the bytes are served with ranges. A GGUF is its stored LFS object, the
 * other blobs are the ones a manifest of this repo made up.
 */
async function blob(call: Call): Promise<void> {
  const repo = registryRepo(call);
  const sha256 = call.params[2] ?? "";
  const held = call.hub.ollama.get(sha256, repo.record.name);
  const stored = held ? undefined : storedFile(repo, sha256);
  const size = held?.length ?? stored?.size;
  if (size === undefined) throw new HubError({ status: 404, message: `Blob sha256:${sha256} is not in ${repo.record.name}` });
  if (!canReply(call.res)) return;
  const digest = `sha256:${sha256}`;
  if (call.req.method === "HEAD") {
    call.res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": size, "Docker-Content-Digest": digest, "Accept-Ranges": "bytes" });
    call.res.end();
    return;
  }
  const location = cdnUrl(call.hub, sha256, stored ? (stored.path.split("/").pop() ?? "") : "", downloadBase(call.hub));
  call.res.writeHead(307, { Location: location, "Docker-Content-Digest": digest, "Content-Length": 0 });
  call.res.end();
}

async function token(): Promise<void> {
  throw new HubError({ status: 401, message: "Invalid username or password." });
}

export const ollamaRegistryRoutes: Route[] = [
  { methods: ["GET", "HEAD"], pattern: /^\/v2\/([^/]+)\/([^/]+)\/manifests\/([^/]+)$/, write: false, handle: manifest },
  { methods: ["GET", "HEAD"], pattern: /^\/v2\/([^/]+)\/([^/]+)\/blobs\/sha256(?::|%3A)([0-9a-f]{64})$/, write: false, handle: blob },
  { methods: ["GET"], pattern: /^\/v2\/token$/, write: false, handle: token },
];
