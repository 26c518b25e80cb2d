import { createHash } from "node:crypto";
import type { GgufChatInfo } from "./read-gguf-chat.js";

/**
 * The blobs a manifest makes up (config, template, system, params, license) kept in memory by sha256, with the repos
 * whose manifests named each: a blob is served only through a repo the caller may read. GGUF headers are read once per
 * object. Small and content-addressed, so they are simply kept for the Hub's life.
 */
export class OllamaBlobs {
  private readonly blobs = new Map<string, { content: Buffer; repos: Set<string> }>();
  private readonly headers = new Map<string, Promise<GgufChatInfo>>();

  /** Holds `content` for `repo` and returns its sha256 (hex). */
  put(repo: string, content: Buffer): string {
    const sha256 = createHash("sha256").update(content).digest("hex");
    const held = this.blobs.get(sha256) ?? { content, repos: new Set<string>() };
    held.repos.add(repo);
    this.blobs.set(sha256, held);
    return sha256;
  }

  /** The blob, if some manifest of `repo` named it (any repo when `repo` is undefined: the signed CDN URL is the check). */
  get(sha256: string, repo?: string): Buffer | undefined {
    const held = this.blobs.get(sha256);
    return held && (repo === undefined || held.repos.has(repo)) ? held.content : undefined;
  }

  /** The header of the GGUF object `sha256`, read by `read` the first time only. */
  header(sha256: string, read: () => Promise<GgufChatInfo>): Promise<GgufChatInfo> {
    let header = this.headers.get(sha256);
    if (!header) {
      header = read();
      this.headers.set(sha256, header);
      header.catch(() => this.headers.delete(sha256));
    }
    return header;
  }
}
