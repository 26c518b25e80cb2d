import { lfsPointer } from "../git-objects.js";
import type { Call, Route } from "../context.js";
import { HubError, entryNotFound } from "../hub-error.js";
import { REPO, REV, repoAtRev } from "../repo-paths.js";
import { canReply, sendError } from "../reply.js";
import { serveBytes } from "../serve-bytes.js";
import { cdnUrl } from "./cdn.js";

/** Regular files are small and mostly text; the Hub serves them as such. */
function contentType(path: string): string {
  return path.endsWith(".json") ? "application/json; charset=utf-8" : "text/plain; charset=utf-8";
}

/**
 * `resolve` and `raw`. A regular file is served here; `resolve` of an LFS file answers 302 to a presigned download URL
 * with `X-Linked-Etag`/`X-Linked-Size` (the Python client reads them from the 302 itself); `raw` of an LFS file is its pointer.
 */
async function resolve(call: Call): Promise<void> {
  let found;
  try {
    found = repoAtRev(call, 3);
  } catch (error) {
    // Errors here have no body on HEAD, as on the Hub.
    if (error instanceof HubError) return sendError(call.res, error, call.req.method === "HEAD");
    throw error;
  }
  const { at } = found;
  const raw = call.params[2] === "raw";
  const path = call.params[4] ?? "";
  const entry = at.commit.files[path];
  if (!entry) return sendError(call.res, entryNotFound(true), call.req.method === "HEAD");
  const filename = path.split("/").pop() ?? path;
  const common = { "X-Repo-Commit": at.commit.oid, "Access-Control-Expose-Headers": "X-Repo-Commit, X-Linked-Etag, X-Linked-Size, ETag, Content-Range" };
  if (entry.lfs && !raw) {
    const location = cdnUrl(call.hub, entry.sha256, filename);
    const body = `Found. Redirecting to ${location}`;
    if (!canReply(call.res)) return;
    call.res.writeHead(302, { ...common, Location: location, "X-Linked-Etag": `"${entry.sha256}"`, "X-Linked-Size": String(entry.size), "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
    call.res.end(call.req.method === "HEAD" ? undefined : body);
    return;
  }
  const headers = { ...common, ETag: `"${entry.oid}"`, "Content-Disposition": `inline; filename*=UTF-8''${encodeURIComponent(filename)}; filename="${filename.replace(/[^\x20-\x7e]|"/g, "_")}";` };
  if (entry.lfs) {
    const pointer = lfsPointer(entry.sha256, entry.size);
    return serveBytes(call, { buffer: pointer }, pointer.length, { ...headers, "Content-Type": "text/plain; charset=utf-8" });
  }
  await serveBytes(call, { file: call.hub.objects.pathOf(entry.sha256) }, entry.size, { ...headers, "Content-Type": contentType(path) });
}

export const resolveRoutes: Route[] = [{ methods: ["GET", "HEAD"], pattern: new RegExp(`^/${REPO}/(resolve|raw)/${REV}/(.+)$`), write: false, handle: resolve }];
