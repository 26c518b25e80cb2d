/**
 * A size as llama-gguf-split reads it: a whole number with M or G (decimal units, 1 G = 10^9 bytes).
 * Returns undefined for anything else, so the recipe check can say so before any work.
 */
export function parseSplitSize(text: string): number | undefined {
  const match = /^(\d+)([MG])$/.exec(text.trim());
  if (!match?.[1] || !match[2]) return undefined;
  const n = Number(match[1]);
  if (n <= 0) return undefined;
  return n * (match[2] === "G" ? 1e9 : 1e6);
}
