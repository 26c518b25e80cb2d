/** A duration as a person says it: "40 s", "12 min", "3.5 h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${Number((seconds / 3600).toFixed(1))} h`;
}

/** A count of weights as model cards say it: "135M", "1.7B". */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${Number((n / 1e9).toFixed(1))}B`;
  if (n >= 1e6) return `${Math.round(n / 1e6)}M`;
  return `${Math.round(n / 1e3)}K`;
}
