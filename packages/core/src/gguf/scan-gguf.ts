import { open, stat, type FileHandle } from "node:fs/promises";
import { resolve } from "node:path";

/** A long array (a vocabulary, merges, token types): its length and first items only. */
export interface GgufLongArray {
  kind: "long-array";
  /** GGUF value type of the items. */
  itemType: number;
  length: number;
  head: GgufScalar[];
  /** Items past the head that scanGguf's `pick` asked for, by index. */
  picked?: Record<number, GgufScalar>;
}

export type GgufScalar = string | number | bigint | boolean;
export type GgufValue = GgufScalar | GgufScalar[] | GgufLongArray;

export interface GgufTensorInfo {
  name: string;
  /** ggml type number. */
  type: number;
  shape: number[];
  /** Offset of its data from the start of the tensor data. */
  offset: number;
}

export interface GgufHeader {
  file: string;
  /** The file's size in bytes. */
  bytes: number;
  version: number;
  littleEndian: boolean;
  /** Every key: scalars and strings whole, arrays of up to `keepArrayItems` items whole, longer ones as GgufLongArray. */
  metadata: Record<string, GgufValue>;
  tensors: GgufTensorInfo[];
  /** Where the tensor data starts (the header rounded up to the alignment). */
  tensorDataOffset: number;
  alignment: number;
  /** Each key–value pair's bytes in the file, key first (what a rewrite copies untouched). */
  kvRanges: { key: string; start: number; end: number }[];
  /** The tensor infos' bytes: from the end of the metadata to the end of the header proper. */
  tensorInfoRange: { start: number; end: number };
}

/** The header ends before it says it does: `at` is the byte where the missing value starts. */
export class GgufHeaderError extends Error {
  readonly file: string;
  readonly at: number;
  constructor(params: { file: string; at: number; message: string }) {
    super(params.message);
    this.name = "GgufHeaderError";
    this.file = params.file;
    this.at = params.at;
  }
}

const T = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9, U64: 10, I64: 11, F64: 12 } as const;
const fixedSize: Record<number, number> = { [T.U8]: 1, [T.I8]: 1, [T.U16]: 2, [T.I16]: 2, [T.U32]: 4, [T.I32]: 4, [T.F32]: 4, [T.BOOL]: 1, [T.U64]: 8, [T.I64]: 8, [T.F64]: 8 };
const keepArrayItems = 64;
const headItems = 8;
const blockBytes = 1 << 20;

/**
 * Reads a GGUF header (metadata and tensor infos) without the tensor data and without materialising long arrays: a
 * 128k-token vocabulary is skipped over, its length and first items kept. Every read is checked against the file's
 * end, so a file cut inside its header is reported as exactly that (GgufHeaderError with the byte), never zero-filled.
 * @huggingface/gguf reads whole arrays and pads past the end with zeros; this reader is for checks and summaries,
 * the library is still what writes headers.
 */
export async function scanGguf(params: { file: string; pick?: GgufPick }): Promise<GgufHeader> {
  const file = resolve(params.file);
  // One parse per file version per process, whatever its name: a stage's output read again after its rename into
  // place (by validation, by the next stage) is the same inode, size and mtime.
  const info = await stat(file, { bigint: true });
  const key = `${info.dev}\0${info.ino}\0${info.size}\0${info.mtimeNs}\0${params.pick ? JSON.stringify(params.pick) : ""}`;
  let scanning = scanned.get(key);
  if (!scanning) {
    scanning = scanFile(file, params.pick);
    scanned.set(key, scanning);
    scanning.catch(() => scanned.delete(key));
    if (scanned.size > remembered) scanned.delete(scanned.keys().next().value ?? "");
  }
  return { ...(await scanning), file };
}

const scanned = new Map<string, Promise<GgufHeader>>();
const remembered = 64;

/** Items of one long array to keep besides its head (e.g. the texts of the EOS and EOT tokens of a 256k vocabulary). */
export interface GgufPick {
  key: string;
  indices: number[];
}

async function scanFile(file: string, pick: GgufPick | undefined): Promise<GgufHeader> {
  const handle = await open(file, "r");
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new GgufHeaderError({ file, at: 0, message: info.isDirectory() ? "a folder, not a GGUF file" : "not a regular file" });
    const reader = new HeaderReader(handle, info.size, file);
    return await readHeader(reader, file, pick);
  } finally {
    await handle.close();
  }
}

async function readHeader(r: HeaderReader, file: string, pick: GgufPick | undefined): Promise<GgufHeader> {
  if (r.size === 0) throw new GgufHeaderError({ file, at: 0, message: "the file is empty" });
  const magic = (await r.bytes(4, "the magic")).toString("latin1");
  if (magic !== "GGUF") throw new GgufHeaderError({ file, at: 0, message: `starts with ${JSON.stringify(magic)}, not "GGUF": not a GGUF file` });
  let version = await r.u32("the version");
  // A big-endian file's version reads as a huge number little-endian.
  if (version > 0xffff) {
    r.littleEndian = false;
    version = ((version & 0xff) << 24) | ((version & 0xff00) << 8) | ((version >>> 8) & 0xff00) | (version >>> 24);
  }
  if (version < 2) throw new GgufHeaderError({ file, at: 4, message: `GGUF version ${version} is not supported (llama.cpp reads 2 and 3)` });
  const tensorCount = Number(await r.u64("the tensor count"));
  const kvCount = Number(await r.u64("the metadata count"));
  const metadata: Record<string, GgufValue> = {};
  const kvRanges: GgufHeader["kvRanges"] = [];
  for (let i = 0; i < kvCount; i++) {
    const start = r.pos;
    const key = await r.string(`metadata key ${i + 1} of ${kvCount}`);
    const type = await r.u32(`the type of ${key}`);
    metadata[key] = await readValue(r, type, key, key === pick?.key ? pick.indices : []);
    kvRanges.push({ key, start, end: r.pos });
  }
  const infoStart = r.pos;
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = await r.string(`tensor info ${i + 1} of ${tensorCount}`);
    const dims = await r.u32(`the dimensions of ${name}`);
    if (dims > 8) throw new GgufHeaderError({ file, at: r.pos - 4, message: `tensor ${name} claims ${dims} dimensions: the header is corrupt` });
    const shape: number[] = [];
    for (let d = 0; d < dims; d++) shape.push(Number(await r.u64(`the shape of ${name}`)));
    const type = await r.u32(`the type of ${name}`);
    tensors.push({ name, type, shape, offset: Number(await r.u64(`the offset of ${name}`)) });
  }
  const alignmentValue = metadata["general.alignment"];
  const alignment = typeof alignmentValue === "number" && alignmentValue > 0 ? alignmentValue : 32;
  const tensorDataOffset = Math.ceil(r.pos / alignment) * alignment;
  return { file, bytes: r.size, version, littleEndian: r.littleEndian, metadata, tensors, tensorDataOffset, alignment, kvRanges, tensorInfoRange: { start: infoStart, end: r.pos } };
}

async function readValue(r: HeaderReader, type: number, key: string, indices: number[]): Promise<GgufValue> {
  if (type !== T.ARRAY) return readScalar(r, type, key);
  const itemType = await r.u32(`the item type of ${key}`);
  const length = Number(await r.u64(`the length of ${key}`));
  if (itemType === T.ARRAY) throw new GgufHeaderError({ file: r.file, at: r.pos, message: `${key} is an array of arrays, which llama.cpp does not write` });
  const keep = length <= keepArrayItems ? length : headItems;
  const items: GgufScalar[] = [];
  for (let i = 0; i < keep; i++) items.push(await readScalar(r, itemType, `${key}[${i}]`));
  if (keep === length) return items;
  // The rest is skipped (fixed-size items at once, strings one length at a time, never decoded) but for the picked.
  const wanted = new Set(indices.filter((i) => Number.isInteger(i) && i >= keep && i < length));
  const picked: Record<number, GgufScalar> = {};
  let i = keep;
  for (const at of [...wanted].sort((a, b) => a - b)) {
    await skipItems(r, itemType, at - i, key, i);
    picked[at] = await readScalar(r, itemType, `${key}[${at}]`);
    i = at + 1;
  }
  await skipItems(r, itemType, length - i, key, i);
  return { kind: "long-array", itemType, length, head: items, ...(wanted.size > 0 ? { picked } : {}) };
}

/** Skips `count` items from index `from`: fixed-size ones at once, strings by their lengths within the read window. */
async function skipItems(r: HeaderReader, itemType: number, count: number, key: string, from: number): Promise<void> {
  const size = fixedSize[itemType];
  if (size !== undefined) return r.skip(size * count, `the items of ${key}`);
  for (let i = from; i < from + count; ) {
    const skipped = r.skipStringsInWindow(from + count - i);
    if (skipped > 0) i += skipped;
    else {
      await r.skip(Number(await r.u64(`${key}[${i}]`)), `${key}[${i}]`);
      i++;
    }
  }
}

async function readScalar(r: HeaderReader, type: number, what: string): Promise<GgufScalar> {
  switch (type) {
    case T.STRING:
      return r.string(what);
    case T.BOOL:
      return (await r.bytes(1, what))[0] !== 0;
    case T.U64:
    case T.I64: {
      const value = type === T.U64 ? await r.u64(what) : await r.i64(what);
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
    }
    default: {
      const size = fixedSize[type];
      if (size === undefined) throw new GgufHeaderError({ file: r.file, at: r.pos - 4, message: `${what} has value type ${type}, which GGUF does not define: the header is corrupt` });
      const b = await r.bytes(size, what);
      const le = r.littleEndian;
      const read: Record<number, () => number> = {
        [T.U8]: () => b.readUInt8(0),
        [T.I8]: () => b.readInt8(0),
        [T.U16]: () => (le ? b.readUInt16LE(0) : b.readUInt16BE(0)),
        [T.I16]: () => (le ? b.readInt16LE(0) : b.readInt16BE(0)),
        [T.U32]: () => (le ? b.readUInt32LE(0) : b.readUInt32BE(0)),
        [T.I32]: () => (le ? b.readInt32LE(0) : b.readInt32BE(0)),
        [T.F32]: () => (le ? b.readFloatLE(0) : b.readFloatBE(0)),
        [T.F64]: () => (le ? b.readDoubleLE(0) : b.readDoubleBE(0)),
      };
      return read[type]?.() ?? 0;
    }
  }
}

/** Sequential reads through a 1 MB window, each checked against the end of the file. */
class HeaderReader {
  pos = 0;
  littleEndian = true;
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
    readonly file: string,
  ) {}

  async bytes(n: number, what: string): Promise<Buffer> {
    if (this.pos + n > this.size) throw this.truncated(what);
    const offset = this.pos - this.windowStart;
    if (offset < 0 || offset + n > this.window.length) {
      const length = Math.min(Math.max(n, blockBytes), this.size - this.pos);
      const buffer = Buffer.alloc(length);
      await this.handle.read(buffer, 0, length, this.pos);
      this.window = buffer;
      this.windowStart = this.pos;
    }
    const start = this.pos - this.windowStart;
    this.pos += n;
    return this.window.subarray(start, start + n);
  }

  async skip(n: number, what: string): Promise<void> {
    if (n < 0 || this.pos + n > this.size) throw this.truncated(what);
    this.pos += n;
  }

  /**
   * Skips up to `max` strings that lie wholly inside the read window, without a read or an await per string (a 128k
   * vocabulary is 128k of them); returns how many. 0 means the next one crosses the window's end: skip it the slow way.
   */
  skipStringsInWindow(max: number): number {
    const end = this.windowStart + this.window.length;
    let pos = this.pos;
    let n = 0;
    while (n < max && pos + 8 <= end) {
      const at = pos - this.windowStart;
      const length = this.littleEndian ? this.window.readBigUInt64LE(at) : this.window.readBigUInt64BE(at);
      if (pos + 8 + Number(length) > end) break;
      pos += 8 + Number(length);
      n++;
    }
    this.pos = pos;
    return n;
  }

  async u32(what: string): Promise<number> {
    const b = await this.bytes(4, what);
    return this.littleEndian ? b.readUInt32LE(0) : b.readUInt32BE(0);
  }

  async u64(what: string): Promise<bigint> {
    const b = await this.bytes(8, what);
    return this.littleEndian ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0);
  }

  async i64(what: string): Promise<bigint> {
    const b = await this.bytes(8, what);
    return this.littleEndian ? b.readBigInt64LE(0) : b.readBigInt64BE(0);
  }

  async string(what: string): Promise<string> {
    const length = await this.u64(what);
    if (length > BigInt(this.size)) throw this.truncated(what);
    return (await this.bytes(Number(length), what)).toString("utf8");
  }

  private truncated(what: string): GgufHeaderError {
    return new GgufHeaderError({ file: this.file, at: this.pos, message: `the file is truncated in the header at byte ${this.pos} (reading ${what}; the file has ${this.size} bytes)` });
  }
}

/** The length of an array value, long or not; undefined for a scalar. */
export function arrayLength(value: GgufValue | undefined): number | undefined {
  if (Array.isArray(value)) return value.length;
  if (typeof value === "object") return value.length;
  return undefined;
}
