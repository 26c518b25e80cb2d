import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";

export interface ReadTokenTextsParams {
  file: string;
  /** Token ids whose text is wanted (e.g. EOS and EOT). */
  ids: number[];
}

const STRING = 8;
const ARRAY = 9;
const fixedSize: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const WINDOW = 1 << 20;

/**
 * The texts of a few tokens of a GGUF's `tokenizer.ggml.tokens`, read by walking the header: every other value and
 * every other token is skipped over, so a 256k-token vocabulary is never held in memory (scanGguf keeps only the
 * first items of a long array). Ids past the vocabulary, or a file without one, give no entry.
 */
export async function readTokenTexts(params: ReadTokenTextsParams): Promise<Map<number, string>> {
  const wanted = new Set(params.ids.filter((id) => Number.isInteger(id) && id >= 0));
  const found = new Map<number, string>();
  if (wanted.size === 0) return found;
  const handle = await open(params.file, "r");
  try {
    const r = new Reader(handle, (await handle.stat()).size, params.file);
    if ((await r.bytes(4)).toString("latin1") !== "GGUF") throw new Error(`${params.file}: not a GGUF file`);
    const version = await r.u32();
    // A big-endian file's version reads as a huge number little-endian.
    if (version > 0xffff) r.littleEndian = false;
    await r.u64();
    const kvCount = await r.u64();
    for (let i = 0; i < kvCount; i++) {
      const key = await r.string();
      const type = await r.u32();
      if (key !== "tokenizer.ggml.tokens" || type !== ARRAY) {
        await skipValue(r, type);
        continue;
      }
      const itemType = await r.u32();
      const length = await r.u64();
      if (itemType !== STRING) return found;
      for (let id = 0; id < length && found.size < wanted.size; id++) {
        const size = await r.u64();
        if (wanted.has(id)) found.set(id, (await r.bytes(size)).toString("utf8"));
        else await r.skip(size);
      }
      return found;
    }
    return found;
  } finally {
    await handle.close();
  }
}

async function skipValue(r: Reader, type: number): Promise<void> {
  if (type === STRING) return r.skip(await r.u64());
  if (type !== ARRAY) return r.skip(sizeOf(type, r.file));
  const itemType = await r.u32();
  const length = await r.u64();
  if (itemType !== STRING) return r.skip(sizeOf(itemType, r.file) * length);
  for (let i = 0; i < length; i++) await r.skip(await r.u64());
}

function sizeOf(type: number, file: string): number {
  const size = fixedSize[type];
  if (size === undefined) throw new Error(`${file}: GGUF value type ${type} is not one GGUF defines: the header is corrupt`);
  return size;
}

/** Sequential reads through a 1 MiB window, each checked against the end of the file. */
class Reader {
  littleEndian = true;
  private pos = 0;
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly size: number,
    readonly file: string,
  ) {}

  async bytes(n: number): Promise<Buffer> {
    if (this.pos + n > this.size) throw this.truncated();
    const offset = this.pos - this.windowStart;
    if (offset < 0 || offset + n > this.window.length) {
      const length = Math.min(Math.max(n, WINDOW), this.size - this.pos);
      const buffer = Buffer.alloc(length);
      await this.handle.read(buffer, 0, length, this.pos);
      this.window = buffer;
      this.windowStart = this.pos;
    }
    const start = this.pos - this.windowStart;
    this.pos += n;
    return this.window.subarray(start, start + n);
  }

  async skip(n: number): Promise<void> {
    if (n < 0 || this.pos + n > this.size) throw this.truncated();
    this.pos += n;
  }

  async u32(): Promise<number> {
    const b = await this.bytes(4);
    return this.littleEndian ? b.readUInt32LE(0) : b.readUInt32BE(0);
  }

  async u64(): Promise<number> {
    const b = await this.bytes(8);
    const value = this.littleEndian ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0);
    if (value > BigInt(this.size)) throw this.truncated();
    return Number(value);
  }

  async string(): Promise<string> {
    return (await this.bytes(await this.u64())).toString("utf8");
  }

  private truncated(): Error {
    return new Error(`${this.file}: the GGUF header ends early (at byte ${this.pos} of ${this.size})`);
  }
}
