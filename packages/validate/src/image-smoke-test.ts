import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { IllegalInstructionError, runToolToEnd, ToolError } from "@gguf-pipeline/core";

/** The picture every vision model is shown (64×64: sky, grass, a red square, a sun), shipped with this package. */
export const smokeImage = fileURLToPath(new URL("../assets/smoke-image.png", import.meta.url));

export interface ImageSmokeTestParams {
  /** The text model. */
  file: string;
  /** Its projector (mmproj-*.gguf). */
  projector: string;
  /** llama.cpp's llama-mtmd-cli. */
  mtmdTool: string;
  image?: string;
  prompt: string;
  tokens: number;
  signal?: AbortSignal;
}

export interface ImageSmokeTestOutput {
  ok: boolean;
  fact: string;
  text: string;
  /** The image encoder's compute buffer, as libmtmd logs it when it loads the projector. */
  computeBytes?: number;
}

/**
 * The text model and its projector loaded together by llama-mtmd-cli, shown the image through the model's own chat
 * template (jinja; the image marker before the prompt, as llama.cpp's tools do), and `tokens` tokens generated greedily.
 * Fails when the projector does not load or does not fit the text model, the image cannot be encoded, or nothing is
 * generated.
 */
export async function imageSmokeTest(params: ImageSmokeTestParams): Promise<ImageSmokeTestOutput> {
  try {
    const out = await runToolToEnd({
      tool: "llama-mtmd-cli",
      command: params.mtmdTool,
      args: ["-m", params.file, "--mmproj", params.projector, "--jinja", "--image", params.image ?? smokeImage, "-p", params.prompt, "-n", String(params.tokens), "--temp", "0", "-c", "4096", "-t", String(availableParallelism()), "-lv", "4"],
      file: params.file,
      tailLines: 400,
      ...(params.signal ? { signal: params.signal } : {}),
    });
    const log = out.lines.join("\n");
    // libmtmd logs each batch of image embeddings it encodes ("mtmd batch encoding done in … ms").
    const encoded = /mtmd batch encoding done|image slice encoded/.test(log);
    const text = out.stdout.trim();
    // With its warm-up (and debug logs), libmtmd reserves the image encoder's graph and says what it took:
    // "reserve_compute_meta:        CPU compute buffer size =     0.02 MiB", one line per backend.
    const mib = [...log.matchAll(/(?:reserve|alloc)_compute_meta:\s+\S+ compute buffer size =\s+([\d.]+) MiB/g)].reduce((n, m) => n + Number(m[1]), 0);
    const computeBytes = mib > 0 ? Math.round(mib * 2 ** 20) : undefined;
    if (!encoded) return { ok: false, fact: "the projector encoded no image", text };
    if (!text) return { ok: false, fact: "the image was encoded but no tokens were generated", text };
    return { ok: true, fact: `the image encoded by the projector, then ${JSON.stringify(text.slice(0, 60))}`, text, ...(computeBytes ? { computeBytes } : {}) };
  } catch (error) {
    if (error instanceof ToolError && !(error instanceof IllegalInstructionError)) {
      const lines = error.stderrTail.split("\n");
      const cause = [/what\(\):/, /mismatch/i, /error/i, /failed/i, /exception/i].map((re) => lines.find((l) => re.test(l))).find(Boolean) ?? error.message;
      return { ok: false, fact: `llama-mtmd-cli failed: ${cause.replace(/^[\d.]+ [A-Z] /, "").trim().slice(0, 200)}`, text: "" };
    }
    throw error;
  }
}
