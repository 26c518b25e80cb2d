import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Call } from "./context.js";
import { canReply } from "./reply.js";

type ByteRange = { start: number; end: number } | "unsatisfiable" | undefined;

/** One `bytes=` range (a multi-range request is answered whole, as RFC 9110 allows). */
function parseRange(header: string | undefined, size: number): ByteRange {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    return suffix === 0 || size === 0 ? "unsatisfiable" : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  return start >= size || start > end ? "unsatisfiable" : { start, end };
}

/**
 * Answers GET/HEAD for stored bytes (a file on disk, streamed, or a small buffer such as an LFS pointer), with
 * `Accept-Ranges`, 206 + `Content-Range` for a range, 416 for a range past the end.
 */
export async function serveBytes(call: Call, source: { file: string } | { buffer: Buffer }, size: number, headers: Record<string, string>): Promise<void> {
  const { req, res } = call;
  const range = parseRange(req.headers.range, size);
  if (range === "unsatisfiable") {
    res.writeHead(416, { "Content-Range": `bytes */${size}`, "Content-Length": 0, ...headers });
    res.end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const length = Math.max(0, end - start + 1);
  res.writeHead(range ? 206 : 200, {
    "Accept-Ranges": "bytes",
    "Content-Length": length,
    ...(range ? { "Content-Range": `bytes ${start}-${end}/${size}` } : {}),
    ...headers,
  });
  if (req.method === "HEAD" || length === 0) {
    res.end();
    return;
  }
  const body = "file" in source ? createReadStream(source.file, { start, end }) : Readable.from([source.buffer.subarray(start, end + 1)]);
  // A client that hangs up mid-download is not an error of ours.
  await pipeline(body, res).catch(() => {
    if (canReply(res)) res.destroy();
  });
}
