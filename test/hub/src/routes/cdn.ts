import { stat } from "node:fs/promises";
import type { Call, HubContext, Route } from "../context.js";
import { HubError } from "../hub-error.js";
import { serveBytes } from "../serve-bytes.js";

/**
 * A presigned download URL for an LFS object, like the CDN URLs the Hub redirects `resolve` to. `base` names another
 * host for the same server (the Ollama registry must redirect to a host other than its own).
 */
export function cdnUrl(hub: HubContext, sha256: string, filename: string, base = hub.baseUrl): string {
  const disposition = filename ? `inline; filename*=UTF-8''${encodeURIComponent(filename)}; filename="${filename.replace(/[^\x20-\x7e]|"/g, "_")}";` : "";
  const query = hub.signer.sign(["cdn", sha256, disposition]);
  if (disposition) query.set("response-content-disposition", disposition);
  return `${base}/_cdn/${sha256}?${query}`;
}

async function download(call: Call): Promise<void> {
  const sha256 = call.params[0] ?? "";
  const disposition = call.url.searchParams.get("response-content-disposition") ?? "";
  if (!call.hub.signer.verify(["cdn", sha256, disposition], call.url.searchParams)) {
    throw new HubError({ status: 403, message: "AccessDenied: the URL has expired or its signature does not match", text: true });
  }
  const headers = { "Content-Type": "application/octet-stream", ETag: `"${sha256}"`, ...(disposition ? { "Content-Disposition": disposition } : {}) };
  const file = call.hub.objects.pathOf(sha256);
  const info = await stat(file).catch(() => undefined);
  if (info) return serveBytes(call, { file }, info.size, headers);
  // A blob an Ollama manifest made up (config, template ...): only ever in memory.
  const held = call.hub.ollama.get(sha256);
  if (!held) throw new HubError({ status: 404, message: "NoSuchKey: the object does not exist", text: true });
  await serveBytes(call, { buffer: held }, held.length, headers);
}

export const cdnRoutes: Route[] = [{ methods: ["GET", "HEAD"], pattern: /^\/_cdn\/([0-9a-f]{64})$/, write: false, signed: true, handle: download }];
