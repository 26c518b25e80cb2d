import { describe, expect, it } from "vitest";
import { preloadQualityChart, renderQualityChart } from "./render-quality-chart.js";

describe("renderQualityChart", () => {
  it("should draw every quant as a labelled point of a valid SVG, with the budget legend", async () => {
    const svg = await renderQualityChart({
      title: "Tiny: size against quality",
      ctx: 4096,
      points: [
        { type: "Q8_0", bitsPerWeight: 8.5, kldMean: 0.001, ppl: 10.1, fits: "8 GB" },
        { type: "Q4_K_M", bitsPerWeight: 4.9, kldMean: 0.03, ppl: 10.6, fits: "8 GB" },
        { type: "Q2_K", bitsPerWeight: 2.9, kldMean: 0.2, ppl: 13.2, fits: "8 GB" },
      ],
    });
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    for (const label of ["Q8_0", "Q4_K_M", "Q2_K", "bits per weight", "KL divergence, mean (log)", "perplexity", "fits at ctx 4096"]) expect(svg).toContain(label);
  }, 30_000);

  it("should draw the same chart when its libraries were preloaded (they load once)", async () => {
    const params = { title: "Tiny", ctx: 2048, points: [{ type: "Q8_0", bitsPerWeight: 8.5, kldMean: 0.001, ppl: 10.1, fits: "8 GB" }] };
    const before = await renderQualityChart(params);
    preloadQualityChart();
    preloadQualityChart();
    expect(await renderQualityChart(params)).toBe(before);
  }, 30_000);
});
