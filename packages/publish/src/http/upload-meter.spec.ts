import { describe, expect, it } from "vitest";
import { UploadMeter } from "./upload-meter.js";

describe("UploadMeter", () => {
  it("should count bytes under way, keep those of a finished request, and take back a failed attempt's", () => {
    let now = 0;
    const meter = new UploadMeter({ total: 1000, now: () => now });
    const a = meter.begin("a.gguf");
    const b = meter.begin("b.gguf");
    a.add(300);
    b.add(200);
    now = 1000;
    expect(meter.snapshot()).toEqual({ sent: 500, total: 1000, rate: 500, active: ["a.gguf", "b.gguf"] });
    b.done(false);
    a.done(true);
    expect(meter.uploaded).toBe(300);
    const again = meter.begin("b.gguf");
    again.add(700);
    again.done(true);
    now = 2000;
    expect(meter.snapshot()).toMatchObject({ sent: 1000, active: [] });
    expect(meter.uploaded).toBe(1000);
  });

  it("should measure the rate over the last seconds only", () => {
    let now = 0;
    const meter = new UploadMeter({ total: 10_000, now: () => now });
    const a = meter.begin("a.gguf");
    for (let second = 1; second <= 10; second++) {
      now = second * 1000;
      a.add(second <= 5 ? 100 : 1000);
      meter.snapshot();
    }
    // The last five seconds sent 1000 bytes each.
    expect(meter.snapshot().rate).toBe(1000);
  });
});
