import type { IncomingMessage } from "node:http";
import { HubError, badRequest } from "./hub-error.js";

/** Reads a small body (JSON, a form); uploads never come through here, they are streamed to disk. */
export async function readBody(req: IncomingMessage, limit = 32 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new HubError({ status: 413, message: `Request body is larger than ${limit} bytes` });
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = (await readBody(req)).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest("Invalid JSON in request body");
  }
}

/** A JSON object body, or the fields of a form (the Python client posts `paths-info` as a form). */
export async function readJsonOrForm(req: IncomingMessage): Promise<Record<string, unknown>> {
  if ((req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
    const form = new URLSearchParams((await readBody(req)).toString("utf8"));
    const fields: Record<string, unknown> = {};
    for (const key of new Set(form.keys())) {
      const values = form.getAll(key);
      fields[key] = key === "paths" || values.length > 1 ? values : values[0];
    }
    return fields;
  }
  const body = await readJson(req);
  if (!isObject(body)) throw badRequest("Expected a JSON object in request body");
  return body;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Query and form flags as the clients send them: "1", "true", "True" (Python's str(True)). */
export function truthy(value: unknown): boolean {
  return value === true || (typeof value === "string" && ["1", "true"].includes(value.toLowerCase()));
}
