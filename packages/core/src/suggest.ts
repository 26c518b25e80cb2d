import { distance } from "fastest-levenshtein";

/** The closest candidate to a misspelt word, if one is close enough to be what was meant (case-insensitive). */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    const score = c === lower ? 0 : c.replace(/[_-]/g, "") === lower.replace(/[_-]/g, "") ? 0.5 : distance(lower, c);
    if (!best || score < best.score) best = { candidate, score };
  }
  if (!best) return undefined;
  return best.score <= Math.max(2, Math.floor(best.candidate.length / 3)) ? best.candidate : undefined;
}
