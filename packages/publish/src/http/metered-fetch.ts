import { FileBlob } from "./file-blob.js";
import type { UploadAttempt, UploadMeter } from "./upload-meter.js";

export interface MeteredFetchParams {
  fetch?: typeof fetch;
  meter: UploadMeter;
  /** File bodies in flight at once (LFS PUTs and multipart parts); the Hub client alone would allow 25. */
  maxConcurrent?: number;
  signal?: AbortSignal;
}

/**
 * A `fetch` that counts the bytes of every file body (a {@link FileBlob} or a slice of one) as it is read for sending,
 * and lets at most `maxConcurrent` of them be under way. The body stays a Blob, so fetch still sends its Content-Length
 * (presigned storage URLs refuse chunked uploads).
 */
export function createMeteredFetch(params: MeteredFetchParams): typeof fetch {
  const inner = params.fetch ?? fetch;
  const slots = new Slots(params.maxConcurrent ?? 6);
  return async (input, init) => {
    const body = init?.body;
    if (!(body instanceof FileBlob)) return inner(input, init);
    await slots.take(init?.signal ?? params.signal);
    const attempt = params.meter.begin(body.label);
    try {
      const response = await inner(input, { ...init, body: new CountingBlob(body, attempt) });
      attempt.done(response.ok);
      return response;
    } catch (error) {
      attempt.done(false);
      throw error;
    } finally {
      slots.give();
    }
  };
}

/** The same bytes, counted as the network reads them. */
class CountingBlob extends Blob {
  /** An own property: it shadows Blob's getter, which would report the empty Blob underneath. */
  override readonly size: number;

  constructor(
    private readonly inner: Blob,
    private readonly attempt: UploadAttempt,
  ) {
    super([]);
    this.size = inner.size;
  }

  override stream(): ReadableStream<Uint8Array> {
    const reader = this.inner.stream().getReader();
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        this.attempt.add(value.byteLength);
        controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    });
  }

  override slice(start?: number, end?: number, contentType?: string): Blob {
    return this.inner.slice(start, end, contentType);
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return this.inner.arrayBuffer();
  }
}

/** A counting semaphore whose waits end with the signal. */
class Slots {
  private free: number;
  private waiting: (() => void)[] = [];

  constructor(count: number) {
    this.free = Math.max(1, count);
  }

  async take(signal: AbortSignal | undefined): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const turn = () => {
        signal?.removeEventListener("abort", abort);
        resolve();
      };
      const abort = () => {
        this.waiting = this.waiting.filter((w) => w !== turn);
        reject(signal?.reason ?? new Error("aborted"));
      };
      signal?.addEventListener("abort", abort, { once: true });
      this.waiting.push(turn);
    });
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
