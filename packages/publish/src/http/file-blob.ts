import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { LocalFileError } from "../errors.js";

/** Bytes handed out per read: big enough for disk and TLS throughput, small enough that memory stays flat. */
const CHUNK = 1 << 20;

export interface FileBlobParams {
  /** Absolute path of the file. */
  file: string;
  /** The file's size as the report records it: reading past a shorter file is an error, not a short upload. */
  size: number;
  /** The name the file gets in the repo (progress and errors say this). */
  label: string;
  /** Called with every chunk read from disk (for the bench: how often each byte is read). */
  onRead?: (bytes: number) => void;
}

/**
 * A Blob over a byte range of a file on disk, read lazily in 1 MiB chunks: what the Hub client hashes and uploads
 * without ever holding a model in memory. `fetch` sends it with its Content-Length and re-reads it on a retry;
 * slices (multipart parts) read only their range.
 */
export class FileBlob extends Blob {
  readonly file: string;
  readonly label: string;
  readonly start: number;
  readonly end: number;
  /** An own property: it shadows Blob's getter, which would report the empty Blob underneath. */
  override readonly size: number;
  private readonly onRead: ((bytes: number) => void) | undefined;

  constructor(params: FileBlobParams & { start?: number; end?: number }) {
    super([]);
    this.file = params.file;
    this.label = params.label;
    this.start = params.start ?? 0;
    this.end = params.end ?? params.size;
    this.size = this.end - this.start;
    this.onRead = params.onRead;
  }

  override slice(start?: number, end?: number, _contentType?: string): FileBlob {
    const clamp = (value: number | undefined, fallback: number) => {
      const at = value === undefined ? fallback : value < 0 ? this.size + value : value;
      return Math.min(Math.max(at, 0), this.size);
    };
    const from = clamp(start, 0);
    const to = Math.max(from, clamp(end, this.size));
    return new FileBlob({ file: this.file, size: this.end, label: this.label, start: this.start + from, end: this.start + to, ...(this.onRead ? { onRead: this.onRead } : {}) });
  }

  override stream(): ReadableStream<Uint8Array> {
    let handle: FileHandle | undefined;
    let position = this.start;
    const close = async () => {
      await handle?.close().catch(() => undefined);
      handle = undefined;
    };
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          handle ??= await open(this.file, "r");
          const length = Math.min(CHUNK, this.end - position);
          if (length <= 0) {
            await close();
            controller.close();
            return;
          }
          const buffer = Buffer.allocUnsafe(length);
          const { bytesRead } = await handle.read(buffer, 0, length, position);
          if (bytesRead === 0) throw new Error(`it ends at byte ${position}, before the ${this.end} bytes the report records`);
          position += bytesRead;
          this.onRead?.(bytesRead);
          controller.enqueue(new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead));
        } catch (error) {
          await close();
          controller.error(error instanceof LocalFileError ? error : new LocalFileError({ file: this.file, message: `cannot read ${this.label}: ${(error as Error).message}`, cause: error }));
        }
      },
      cancel: close,
    });
  }

  /** The whole range in memory: only for small ranges (the client's 512-byte sample, text files). */
  override async arrayBuffer(): Promise<ArrayBuffer> {
    const out = new Uint8Array(this.size);
    let offset = 0;
    const reader = this.stream().getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      out.set(value, offset);
      offset += value.byteLength;
    }
    return out.buffer;
  }

  override async text(): Promise<string> {
    return new TextDecoder().decode(await this.arrayBuffer());
  }
}
