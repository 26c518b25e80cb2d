import type { Call, Route } from "../context.js";
import { badRequest, entryNotFound } from "../hub-error.js";
import { readJsonOrForm, truthy } from "../read-body.js";
import { REPO, REV, repoAtRev } from "../repo-paths.js";
import { sendJson } from "../reply.js";
import { describeItem, listTree } from "../tree-entries.js";
import type { TreeItem } from "../tree-entries.js";

/** `tree`: one page of entries and, when more remain, `Link: <absolute url>; rel="next"` with an opaque cursor. */
async function tree(call: Call): Promise<void> {
  const { repo, at } = repoAtRev(call);
  const query = call.url.searchParams;
  const base = (call.params[3] ?? "").replace(/\/$/, "");
  const items = listTree(at.commit, base, truthy(query.get("recursive")));
  if (!items || (base && at.commit.files[base])) throw entryNotFound();
  const cursor = query.get("cursor");
  const offset = cursor ? Number(Buffer.from(cursor, "base64url").toString("utf8")) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw badRequest("Invalid cursor");
  const limit = Math.min(call.hub.pageSize, Number(query.get("limit")) || Infinity);
  const page = items.slice(offset, offset + limit);
  const headers: Record<string, string> = {};
  if (offset + limit < items.length) {
    const next = new URLSearchParams(query);
    next.set("cursor", Buffer.from(String(offset + limit)).toString("base64url"));
    headers.Link = `<${call.hub.baseUrl}${call.url.pathname}?${next}>; rel="next"`;
  }
  const expand = truthy(query.get("expand"));
  sendJson(call.res, 200, page.map((item) => describeItem(repo, at.commit, item, expand)), headers);
}

/** `paths-info`: the entries for the paths that exist (others are left out), from a JSON body or a form. */
async function pathsInfo(call: Call): Promise<void> {
  const { repo, at } = repoAtRev(call);
  const body = await readJsonOrForm(call.req);
  const paths = Array.isArray(body.paths) ? body.paths.map(String) : typeof body.paths === "string" ? [body.paths] : undefined;
  if (!paths) throw badRequest("Expected { paths: string[] }");
  const expand = truthy(body.expand);
  const found: TreeItem[] = [];
  for (const raw of paths) {
    const path = raw.replace(/^\/+|\/+$/g, "");
    if (at.commit.files[path]) found.push({ type: "file", path });
    else if (Object.keys(at.commit.files).some((p) => p.startsWith(`${path}/`))) found.push({ type: "directory", path });
  }
  sendJson(call.res, 200, found.map((item) => describeItem(repo, at.commit, item, expand)));
}

export const treeRoutes: Route[] = [
  { methods: ["GET"], pattern: new RegExp(`^/api/models/${REPO}/tree/${REV}(?:/(.*))?$`), write: false, handle: tree },
  { methods: ["POST"], pattern: new RegExp(`^/api/models/${REPO}/paths-info/${REV}$`), write: false, handle: pathsInfo },
];
