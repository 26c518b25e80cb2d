import { describe, expect, it } from "vitest";
import { CanceledError, IllegalInstructionError, ToolError } from "./errors.js";
import { headlineOf, runToolToEnd } from "./run-tool.js";

describe("headlineOf", () => {
  it("should take the exception over the progress bar redrawn after it", () => {
    const tail = ["Traceback (most recent call last):", '  File "convert_hf_to_gguf.py", line 12, in <module>', "OSError: [Errno 28] No space left on device", "Writing:  60%|██████    | 160M/268M [00:01<00:00, 98.1Mbyte/s]"];
    expect(headlineOf(tail)).toBe("OSError: [Errno 28] No space left on device");
  });

  it("should find the error a usage text pushed out of the tail", () => {
    const usage = Array.from({ length: 40 }, (_, i) => `  --option-${i}    what it does`);
    const all = ["parse_ggml_type: invalid ggml_type 'q9_0'", "parse_tensor_type: invalid quantization type 'q9_0'", "usage: llama-quantize [--help] ...", ...usage];
    expect(headlineOf(all.slice(-30), all)).toBe("parse_tensor_type: invalid quantization type 'q9_0'");
  });

  it("should say what numpy's short write means", () => {
    const tail = ["    ti.tensor.tofile(fout)", "OSError: 24576 requested and 21856 written", "Writing:  20%|█▉        | 98.3k/493k [00:00<00:00, 484kbyte/s]"];
    expect(headlineOf(tail)).toBe("OSError: 24576 requested and 21856 written (a short write: the disk is probably full)");
  });

  it("should take llama.cpp's error lines, and otherwise the last line that is not progress", () => {
    expect(headlineOf(["llama_model_load: loading model", "main: error: failed to load model 'x.gguf'", "done"])).toBe("main: error: failed to load model 'x.gguf'");
    expect(headlineOf(["first", "last words", "Writing: 10%|█ | 1/10"])).toBe("last words");
  });
});

describe("runTool interrupted", () => {
  // What a terminal's Ctrl-C does: the tool and the run get SIGINT together, and the tool may be gone first.
  const diesOfSigint = { tool: "sh", command: "sh", args: ["-c", "echo working; kill -INT $$"] };

  it("should be the run's interruption when the run's signal aborts just after the tool died of SIGINT", async () => {
    const controller = new AbortController();
    const run = runToolToEnd({ ...diesOfSigint, signal: controller.signal, onLine: () => setTimeout(() => controller.abort(), 50) });
    await expect(run).rejects.toBeInstanceOf(CanceledError);
  });

  it("should say what a SIGKILL from elsewhere most often means, and not quote the command line", async () => {
    const error = (await runToolToEnd({ tool: "sh", command: "sh", args: ["-c", "kill -KILL $$"], signal: new AbortController().signal }).catch((e: unknown) => e)) as ToolError;
    expect(error).toBeInstanceOf(ToolError);
    expect(error.message).toBe("sh failed (killed by SIGKILL: out of memory?): it printed nothing");
  });

  it("should make a tool killed by SIGILL an IllegalInstructionError that keeps the command to look at it again", async () => {
    const error = (await runToolToEnd({ tool: "sh", command: "sh", args: ["-c", "kill -ILL $$"], file: "x.gguf" }).catch((e: unknown) => e)) as IllegalInstructionError;
    expect(error).toBeInstanceOf(IllegalInstructionError);
    expect(error).toBeInstanceOf(ToolError);
    expect(error).toMatchObject({ tool: "sh", signal: "SIGILL", command: "sh", args: ["-c", "kill -ILL $$"], file: "x.gguf", message: "sh was killed by SIGILL (an illegal instruction)" });
  });

  it("should be the tool's failure when only the tool was signalled", async () => {
    const error = await runToolToEnd({ ...diesOfSigint, signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).message).toBe("sh failed (killed by SIGINT): working");
  });
});
