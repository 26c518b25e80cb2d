/** GGUF's value types (gguf.h). */
export const ggufTypes = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9, U64: 10, I64: 11, F64: 12 } as const;

/** A metadata value with its GGUF type (and, for an array, its items' type), as @huggingface/gguf types them. */
export interface GgufTypedValue {
  type: number;
  value: unknown;
  subType?: number;
}

/**
 * One key–value pair as GGUF bytes: the key, the value's type, the value (GGUF v3 lengths are 64-bit). Strings are
 * written as UTF-8 of the JavaScript string given; a string that must keep other bytes is never re-encoded here — a
 * rewrite copies the pairs it does not change byte for byte.
 */
export function encodeGgufKv(key: string, typed: GgufTypedValue, littleEndian = true): Buffer {
  const w = new GgufWriter(littleEndian);
  w.string(key);
  w.u32(typed.type);
  if (typed.type === ggufTypes.ARRAY) {
    const items = Array.isArray(typed.value) ? (typed.value as unknown[]) : [];
    const subType = typed.subType ?? ggufTypes.STRING;
    w.u32(subType);
    w.u64(items.length);
    for (const item of items) w.scalar(subType, item);
  } else w.scalar(typed.type, typed.value);
  return w.bytes();
}

/** Appends GGUF's little- (or big-) endian encodings. */
export class GgufWriter {
  private parts: Buffer[] = [];
  length = 0;

  constructor(private readonly littleEndian = true) {}

  raw(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }

  u32(n: number): void {
    this.fixed(4, (b) => (this.littleEndian ? b.writeUInt32LE(n) : b.writeUInt32BE(n)));
  }

  u64(n: number | bigint): void {
    this.fixed(8, (b) => (this.littleEndian ? b.writeBigUInt64LE(BigInt(n)) : b.writeBigUInt64BE(BigInt(n))));
  }

  string(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.u64(b.length);
    this.raw(b);
  }

  scalar(type: number, value: unknown): void {
    const le = this.littleEndian;
    const n = Number(value);
    switch (type) {
      case ggufTypes.STRING:
        return this.string(String(value));
      case ggufTypes.BOOL:
        return this.fixed(1, (b) => b.writeUInt8(value ? 1 : 0));
      case ggufTypes.U8:
        return this.fixed(1, (b) => b.writeUInt8(n));
      case ggufTypes.I8:
        return this.fixed(1, (b) => b.writeInt8(n));
      case ggufTypes.U16:
        return this.fixed(2, (b) => (le ? b.writeUInt16LE(n) : b.writeUInt16BE(n)));
      case ggufTypes.I16:
        return this.fixed(2, (b) => (le ? b.writeInt16LE(n) : b.writeInt16BE(n)));
      case ggufTypes.U32:
        return this.u32(n);
      case ggufTypes.I32:
        return this.fixed(4, (b) => (le ? b.writeInt32LE(n) : b.writeInt32BE(n)));
      case ggufTypes.F32:
        return this.fixed(4, (b) => (le ? b.writeFloatLE(n) : b.writeFloatBE(n)));
      case ggufTypes.F64:
        return this.fixed(8, (b) => (le ? b.writeDoubleLE(n) : b.writeDoubleBE(n)));
      case ggufTypes.U64:
        return this.u64(typeof value === "bigint" ? value : BigInt(n));
      case ggufTypes.I64:
        return this.fixed(8, (b) => (le ? b.writeBigInt64LE(BigInt(value as number | bigint)) : b.writeBigInt64BE(BigInt(value as number | bigint))));
      default:
        throw new TypeError(`GGUF value type ${type} cannot be written as a scalar`);
    }
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }

  private fixed(size: number, write: (b: Buffer) => void): void {
    const b = Buffer.alloc(size);
    write(b);
    this.raw(b);
  }
}
