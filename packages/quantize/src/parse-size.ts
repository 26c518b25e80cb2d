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

/**
 * A file size: bytes, or a number with KB, MB, GB, TB (decimal, as the Hub and disks count) or KiB, MiB, GiB, TiB.
 * Undefined for anything else.
 */
export function parseFileSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(i?)b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const power = m[2] ? "kmgt".indexOf(m[2].toLowerCase()) + 1 : 0;
  const bytes = Math.round(Number(m[1]) * (m[3] ? 1024 : 1000) ** power);
  return bytes > 0 ? bytes : undefined;
}
