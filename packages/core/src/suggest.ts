import { createRequire } from "node:module";
import type * as Levenshtein from "fastest-levenshtein";

// Loaded on the first suggestion (only a mistake needs one), not on every start of the CLI.
let levenshtein: typeof Levenshtein | undefined;
const distance = (a: string, b: string): number => (levenshtein ??= createRequire(import.meta.url)("fastest-levenshtein") as typeof Levenshtein).distance(a, b);

/** The closest candidate to a misspelt word, if one is close enough to be what was meant (case-insensitive). */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: { candidate: string; score: number; base: number } | undefined;
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    const base = c === lower ? 0 : c.replace(/[_-]/g, "") === lower.replace(/[_-]/g, "") ? 0.5 : distance(lower, c);
    // Among equally close candidates, the one spelt with the same case wins.
    const score = base + distance(word, candidate) / 1000;
    if (!best || score < best.score) best = { candidate, score, base };
  }
  if (!best) return undefined;
  return best.base <= Math.max(2, Math.floor(best.candidate.length / 3)) ? best.candidate : undefined;
}
