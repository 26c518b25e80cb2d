import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join, normalize, sep } from "node:path";

export interface BlobCdn {
  /** `http://localhost:PORT`: a host name other than the registry's 127.0.0.1 (see startRegistry). */
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves a registry's filesystem storage read-only, with byte ranges, on loopback: the role a CDN plays behind
 * registry.ollama.ai. The registry redirects blob downloads here (its `redirect` storage middleware), which Ollama
 * requires: its pull takes the blob URL from a 307's Location header and fails on a plain 200.
 */
export async function startBlobCdn(params: { root: string }): Promise<BlobCdn> {
  const server = createServer((req, res) => void serve(params.root, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://localhost:${port}`,
    stop: () => {
      // Ollama's client keeps connections open; they must not hold the close.
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function serve(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)));
  const info = path.startsWith(root + sep) && (req.method === "GET" || req.method === "HEAD") ? await stat(path).catch(() => undefined) : undefined;
  if (!info?.isFile()) {
    res.writeHead(404).end();
    return;
  }
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
  const start = range ? Number(range[1]) : 0;
  const end = range?.[2] ? Math.min(Number(range[2]), info.size - 1) : info.size - 1;
  if (range && start > end) {
    res.writeHead(416, { "content-range": `bytes */${info.size}` }).end();
    return;
  }
  const headers = { "content-length": String(end - start + 1), "content-type": "application/octet-stream", "accept-ranges": "bytes" };
  res.writeHead(range ? 206 : 200, range ? { ...headers, "content-range": `bytes ${start}-${end}/${info.size}` } : headers);
  if (req.method === "HEAD") res.end();
  else createReadStream(path, { start, end }).pipe(res);
}
