/** The memory sizes people choose files for (GiB): a laptop, a mid GPU, a 16 GB machine, a 24 GB GPU. */
export const commonBudgets = [8, 12, 16, 24] as const;

/** Room left for the system and everything else beside the model: a file fits a budget when it needs at most 90% of it. */
export const budgetMargin = 0.9;

const GiB = 2 ** 30;

/** The smallest common budget (GiB) a model needing `bytes` fits, or undefined when it needs more than the largest. */
export function smallestBudget(bytes: number): number | undefined {
  return commonBudgets.find((gb) => bytes <= gb * GiB * budgetMargin);
}

/** A budget such as "8GB", "512MB" or "24 GiB" in bytes (binary units: memory is sold that way). */
export function parseBudget(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(k|m|g|t)i?b?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[(m[2] ?? "g").toLowerCase() as "k" | "m" | "g" | "t"];
  return Math.round(Number(m[1]) * unit);
}
