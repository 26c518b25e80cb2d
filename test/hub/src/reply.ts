import type { ServerResponse } from "node:http";
import type { HubError } from "./hub-error.js";

/** Whether an answer can still be written (a dropped connection or an earlier answer make it moot). */
export function canReply(res: ServerResponse): boolean {
  return !res.headersSent && !res.destroyed && !res.writableEnded;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (!canReply(res)) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (!canReply(res)) return;
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Header values must be Latin-1 without line breaks; messages are ours, so this only guards against odd paths. */
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, "?");
}

/** The Hub's error shape: `X-Error-Code` when it has one, `X-Error-Message` always, `{ error }` JSON (plain text on resolve). */
export function sendError(res: ServerResponse, error: HubError, head = false): void {
  const headers: Record<string, string> = { "X-Error-Message": headerSafe(error.message), ...error.headers };
  if (error.code) headers["X-Error-Code"] = error.code;
  if (head) {
    if (!canReply(res)) return;
    res.writeHead(error.status, headers);
    res.end();
  } else if (error.text) sendText(res, error.status, error.message, headers);
  else sendJson(res, error.status, { error: error.message }, headers);
}
