import { ggufLibrary } from "./gguf-library.js";

/**
 * Bytes per block and weights per block of each ggml tensor type (the GGUF format's facts, as ggml defines them):
 * a tensor of n weights takes n / blockSize * typeSize bytes.
 */
export function ggmlTypeSizes(): Partial<Record<number, { blockSize: number; typeSize: number }>> {
  return (sizes ??= sizesByType(ggufLibrary().GGMLQuantizationType));
}

let sizes: Partial<Record<number, { blockSize: number; typeSize: number }>> | undefined;

function sizesByType(T: ReturnType<typeof ggufLibrary>["GGMLQuantizationType"]): Partial<Record<number, { blockSize: number; typeSize: number }>> {
  return {
    [T.F32]: { blockSize: 1, typeSize: 4 },
    [T.F16]: { blockSize: 1, typeSize: 2 },
    [T.BF16]: { blockSize: 1, typeSize: 2 },
    [T.F64]: { blockSize: 1, typeSize: 8 },
    [T.I8]: { blockSize: 1, typeSize: 1 },
    [T.I16]: { blockSize: 1, typeSize: 2 },
    [T.I32]: { blockSize: 1, typeSize: 4 },
    [T.I64]: { blockSize: 1, typeSize: 8 },
    [T.Q4_0]: { blockSize: 32, typeSize: 18 },
    [T.Q4_1]: { blockSize: 32, typeSize: 20 },
    [T.Q5_0]: { blockSize: 32, typeSize: 22 },
    [T.Q5_1]: { blockSize: 32, typeSize: 24 },
    [T.Q8_0]: { blockSize: 32, typeSize: 34 },
    [T.Q8_1]: { blockSize: 32, typeSize: 40 },
    [T.Q2_K]: { blockSize: 256, typeSize: 84 },
    [T.Q3_K]: { blockSize: 256, typeSize: 110 },
    [T.Q4_K]: { blockSize: 256, typeSize: 144 },
    [T.Q5_K]: { blockSize: 256, typeSize: 176 },
    [T.Q6_K]: { blockSize: 256, typeSize: 210 },
    [T.Q8_K]: { blockSize: 256, typeSize: 292 },
    [T.IQ2_XXS]: { blockSize: 256, typeSize: 66 },
    [T.IQ2_XS]: { blockSize: 256, typeSize: 74 },
    [T.IQ3_XXS]: { blockSize: 256, typeSize: 98 },
    [T.IQ1_S]: { blockSize: 256, typeSize: 50 },
    [T.IQ4_NL]: { blockSize: 32, typeSize: 18 },
    [T.IQ3_S]: { blockSize: 256, typeSize: 110 },
    [T.IQ2_S]: { blockSize: 256, typeSize: 82 },
    [T.IQ4_XS]: { blockSize: 256, typeSize: 136 },
    [T.IQ1_M]: { blockSize: 256, typeSize: 56 },
    [T.TQ1_0]: { blockSize: 256, typeSize: 54 },
    [T.TQ2_0]: { blockSize: 256, typeSize: 66 },
    [T.MXFP4]: { blockSize: 32, typeSize: 17 },
  };
}

/** Bytes of tensor data for a tensor, or undefined for a type this table does not know. */
export function tensorBytes(type: number, shape: readonly (number | bigint)[]): number | undefined {
  const size = ggmlTypeSizes()[type];
  if (!size) return undefined;
  const n = shape.reduce<number>((a, b) => a * Number(b), 1);
  return (n / size.blockSize) * size.typeSize;
}
