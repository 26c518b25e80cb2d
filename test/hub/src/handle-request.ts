import { randomBytes } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Call, Caller, HubContext, Route } from "./context.js";
import type { FaultSet } from "./faults.js";
import { HubError, invalidCredentials } from "./hub-error.js";
import { sendError, sendJson } from "./reply.js";
import type { HubFault, HubRequest } from "./types.js";

const NOT_FOUND = "Sorry, we can't find the page you are looking for.";
const INTERNAL = "Internal Error - We're working hard to fix this as soon as possible!";

function findRoute(routes: Route[], method: string, path: string): { route: Route; captures: string[] } | undefined {
  for (const route of routes) {
    const match = route.methods.includes(method) ? route.pattern.exec(path) : null;
    if (match) return { route, captures: match.slice(1).map((p) => p ?? "") };
  }
  return undefined;
}

function decode(captures: string[]): string[] {
  try {
    return captures.map((p) => decodeURIComponent(p));
  } catch {
    throw new HubError({ status: 400, message: "Malformed percent-encoding in the URL" });
  }
}

/** The caller a Bearer token names; an unknown token is an error everywhere, as on the Hub. */
function callerOf(req: IncomingMessage, hub: HubContext): Caller | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (!match?.[1]) return undefined;
  const info = hub.tokens[match[1]];
  if (!info) throw invalidCredentials();
  return { ...info, token: match[1] };
}

/** Destroys the connection once enough of the body arrived (at once when there is none). Returns true if it is gone already. */
function armDrop(req: IncomingMessage, fault: HubFault): boolean {
  const length = Number(req.headers["content-length"] ?? 0);
  const hasBody = length > 0 || req.headers["transfer-encoding"] !== undefined;
  const limit = fault.afterBytes ?? Math.max(1, Math.floor(length / 2));
  if (!hasBody || limit <= 0) {
    req.socket.destroy();
    return true;
  }
  let seen = 0;
  req.on("data", (chunk: Buffer) => {
    seen += chunk.length;
    if (seen >= limit) req.socket.destroy();
  });
  return false;
}

async function answerFault(req: IncomingMessage, res: ServerResponse, fault: HubFault): Promise<void> {
  const status = fault.status ?? 500;
  // Read the body first: answering mid-upload would make clients see a broken pipe instead of the status.
  for await (const _chunk of req);
  const message = fault.message?.replaceAll("{authorization}", req.headers.authorization ?? "") ?? (status === 500 ? INTERNAL : (STATUS_CODES[status] ?? "Error"));
  sendJson(res, status, { error: message }, fault.retryAfter !== undefined ? { "Retry-After": String(fault.retryAfter) } : {});
}

/** Routes one request: log it, apply an injected fault, authenticate, run the handler, turn errors into the Hub's answers. */
export async function handleRequest(params: { req: IncomingMessage; res: ServerResponse; hub: HubContext; routes: Route[]; faults: FaultSet; log: HubRequest[] }): Promise<void> {
  const { req, res, hub } = params;
  const method = req.method ?? "GET";
  const url = URL.canParse(req.url ?? "/", hub.baseUrl) ? new URL(req.url ?? "/", hub.baseUrl) : new URL("/invalid-url", hub.baseUrl);
  const found = findRoute(params.routes, method, url.pathname);
  const entry: HubRequest = { method, path: url.pathname, query: url.search.slice(1), status: 0, write: found ? found.route.write : method !== "GET" && method !== "HEAD" };
  params.log.push(entry);
  res.on("close", () => {
    entry.status = res.writableFinished ? res.statusCode : 0;
  });
  res.setHeader("X-Request-Id", `Root=1-${randomBytes(12).toString("hex")}`);
  try {
    const fault = params.faults.take(method, url.pathname);
    if (fault) entry.fault = fault.kind;
    if (fault?.kind === "status") return await answerFault(req, res, fault);
    // Never answered: the socket stays open until the client gives up (or the server closes).
    if (fault?.kind === "hang") return;
    if (fault?.kind === "drop" && armDrop(req, fault)) return;
    if (!found) throw new HubError({ status: 404, message: NOT_FOUND });
    const caller = found.route.signed ? undefined : callerOf(req, hub);
    if (caller) entry.user = caller.user;
    const call: Call = { req, res, url, params: decode(found.captures), caller, hub, setWrite: (write) => (entry.write = write) };
    await found.route.handle(call);
  } catch (error) {
    if (error instanceof HubError) sendError(res, error, method === "HEAD");
    else if (!req.destroyed) {
      entry.error = error instanceof Error ? error.message : String(error);
      sendError(res, new HubError({ status: 500, message: INTERNAL }), method === "HEAD");
    }
  } finally {
    // An error answered before the body was read: drain it, so the client sees the answer, not a reset.
    if (!req.readableEnded && !req.destroyed) req.resume();
  }
}
