import { describe, expect, it } from "vitest";
import { parseKld } from "./parse-kld.js";

describe("parseKld", () => {
  it("should read the statistics llama-perplexity prints with --kl-divergence", () => {
    const out = ["Mean PPL(Q)                   :  17.123456 ±   0.5", "Mean    KLD:   0.073305 ±   0.001787", "99.0%   KLD:   0.312000", "Same top p: 81.151 ± 1.744 %"].join("\n");
    expect(parseKld(out)).toEqual({ ppl: 17.123456, kldMean: 0.073305, kldSe: 0.001787, kldP99: 0.312, top1: 81.151 });
  });

  it("should give NaN for what a cut-off output did not print", () => {
    expect(Number.isNaN(parseKld("Mean    KLD:   0.1").top1)).toBe(true);
  });
});
