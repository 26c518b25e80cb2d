export interface EvaluationBatchesParams {
  /** The text's paragraphs in order, each with its token count (paragraphTokens). */
  paragraphs: { text: string; tokens: number }[];
  separator: string;
  ctx: number;
}

export interface EvaluationBatch {
  text: string;
  /** Whole chunks it holds for llama-perplexity (2: the least it evaluates). */
  chunks: number;
}

/**
 * The text as batches that each sample all of it: runs of consecutive paragraphs a little over one chunk (and at
 * least 1,024 tokens) long (a chunk still reads a passage as written), taken in an evenly spread order (bit-reversed: 0, ½, ¼, ¾, … of the way
 * through), two runs to a batch. A text is usually written in blocks (prose, then chat, then code …): its first chunks
 * alone would measure one kind of text; any first batches of these measure a bit of every kind, in proportion to its
 * tokens. Batches are separate texts to llama-perplexity: their chunks never overlap.
 */
export function evaluationBatches(params: EvaluationBatchesParams): EvaluationBatch[] {
  // 5 % over a chunk (a run tokenized on its own may come out a few tokens shorter than its share of the whole), and
  // at least 1,024 tokens: with a short context, a batch of two runs still scores some 1,000 tokens.
  const runTokens = Math.max(Math.ceil(params.ctx * 1.05), 1024);
  const runs: { text: string[]; tokens: number }[] = [];
  for (const p of params.paragraphs) {
    const last = runs.at(-1);
    if (last && last.tokens < runTokens) {
      last.text.push(p.text);
      last.tokens += p.tokens;
    } else runs.push({ text: [p.text], tokens: p.tokens });
  }
  // A short last run joins the one before it.
  const tail = runs.at(-1);
  if (tail && runs.length > 1 && tail.tokens < runTokens) {
    runs.pop();
    const before = runs.at(-1);
    if (before) {
      before.text.push(...tail.text);
      before.tokens += tail.tokens;
    }
  }
  const ordered = spreadOrder(runs.length).map((i) => runs[i]);
  const batches: EvaluationBatch[] = [];
  for (let i = 0; i + 1 < ordered.length; i += 2) {
    const pair = [ordered[i], ordered[i + 1]].filter((r): r is { text: string[]; tokens: number } => r !== undefined);
    const tokens = pair.reduce((n, r) => n + r.tokens, 0);
    batches.push({ text: `${pair.flatMap((r) => r.text).join(params.separator)}\n`, chunks: Math.max(2, Math.floor(tokens / params.ctx)) });
  }
  return batches;
}

/** 0…n−1 in bit-reversed order: every prefix is spread evenly over the whole range. */
export function spreadOrder(n: number): number[] {
  const bits = Math.max(1, Math.ceil(Math.log2(Math.max(n, 2))));
  const order: number[] = [];
  for (let i = 0; i < 1 << bits; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) if (i & (1 << b)) r |= 1 << (bits - 1 - b);
    if (r < n) order.push(r);
  }
  return order;
}
