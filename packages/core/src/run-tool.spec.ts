import { describe, expect, it } from "vitest";
import { headlineOf } from "./run-tool.js";

describe("headlineOf", () => {
  it("should take the exception over the progress bar redrawn after it", () => {
    const tail = ["Traceback (most recent call last):", '  File "convert_hf_to_gguf.py", line 12, in <module>', "OSError: [Errno 28] No space left on device", "Writing:  60%|██████    | 160M/268M [00:01<00:00, 98.1Mbyte/s]"];
    expect(headlineOf(tail)).toBe("OSError: [Errno 28] No space left on device");
  });

  it("should take llama.cpp's error lines, and otherwise the last line that is not progress", () => {
    expect(headlineOf(["llama_model_load: loading model", "main: error: failed to load model 'x.gguf'", "done"])).toBe("main: error: failed to load model 'x.gguf'");
    expect(headlineOf(["first", "last words", "Writing: 10%|█ | 1/10"])).toBe("last words");
  });
});
