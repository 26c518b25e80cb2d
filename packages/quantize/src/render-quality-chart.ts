import type * as Vega from "vega";
import type * as VegaLite from "vega-lite";

/** Part of the chart's cache key: bump it whenever the drawing changes. */
export const qualityChartVersion = 2;

export interface QualityPoint {
  /** The quant type (F16, Q4_K_M, ...). */
  type: string;
  bitsPerWeight: number;
  /** Text-generation models: mean KL divergence from the reference, and perplexity. */
  kldMean?: number;
  ppl?: number;
  /** Embedding models: mean cosine similarity to the reference's embeddings. */
  cosineMean?: number;
  /** The smallest common memory budget it fits at the chart's context, e.g. "8 GB", or "over 24 GB". */
  fits: string;
}

export interface RenderQualityChartParams {
  title: string;
  points: QualityPoint[];
  /** The context the memory budgets were judged at. */
  ctx: number;
}

let drawing: Promise<[typeof Vega, typeof VegaLite]> | undefined;

/** Vega and vega-lite, loaded once: ~0.2 s, so not part of every run's start-up. */
function drawingLibraries() {
  return (drawing ??= Promise.all([import("vega"), import("vega-lite")]));
}

/**
 * Loads the chart's libraries in the background, for a run that will draw one and meanwhile waits on a tool that
 * leaves a core idle (the converter's start-up): then the chart does not wait for them after the last measurement.
 */
export function preloadQualityChart(): void {
  // A failure to load surfaces where the chart is drawn, not here.
  drawingLibraries().catch(() => undefined);
}

/**
 * The size/quality trade-off of a run's quants as an SVG (vega-lite, rendered headless by vega): bits per weight
 * against KL divergence (log scale) and perplexity, or 1 − cosine for an embedding model, each point coloured by the
 * smallest memory budget it fits.
 */
export async function renderQualityChart(params: RenderQualityChartParams): Promise<string> {
  const [vega, vegaLite] = await drawingLibraries();
  const embedding = params.points.some((p) => p.cosineMean !== undefined);
  // The reference is at 0 on a log scale (it is the reference): it appears in the perplexity panel only.
  const values = params.points.map((p) => ({ ...p, distance: p.cosineMean === undefined || p.cosineMean >= 1 ? null : 1 - p.cosineMean, kld: p.kldMean === undefined || p.kldMean <= 0 ? null : p.kldMean }));
  const budgetLegend = `fits at ctx ${params.ctx}`;
  const panel = (field: string, title: string, log: boolean) => ({
    width: 420,
    height: 180,
    encoding: {
      x: { field: "bitsPerWeight", type: "quantitative", title: "bits per weight", scale: { zero: false } },
      y: { field, type: "quantitative", title, scale: log ? { type: "log" } : { zero: false } },
      order: { field: "bitsPerWeight" },
    },
    layer: [
      { mark: { type: "line", color: "#bbb", strokeDash: [3, 3] } },
      { mark: { type: "point", filled: true, size: 70 }, encoding: { color: { field: "fits", type: "nominal", title: budgetLegend } } },
      { mark: { type: "text", dy: -9, fontSize: 10 }, encoding: { text: { field: "type" } } },
    ],
  });
  const panels = embedding ? [panel("distance", "1 − cosine to the reference (log)", true)] : [panel("kld", "KL divergence, mean (log)", true), panel("ppl", "perplexity", false)];
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: params.title,
    data: { values },
    vconcat: panels,
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec as never).spec), { renderer: "none" });
  return view.toSVG();
}
