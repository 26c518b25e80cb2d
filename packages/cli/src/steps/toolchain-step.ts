import { ensureToolchain } from "@gguf-pipeline/native";
import type { RunStep } from "./run-context.js";

const stage = "toolchain";

/** llama.cpp and the converters' Python env: built on first use (with progress), then reused from the cache. */
export const toolchainStep: RunStep = {
  stage,
  part: "convert",
  title: () => "Toolchain: llama.cpp and the converters' Python env",
  applies: () => true,
  run: async function* (ctx) {
    const started = Date.now();
    // A user's own llama.cpp was already checked while preparing the recipe (its converter lists the architectures).
    let built = false;
    if (!ctx.toolchain) {
      const run = ensureToolchain({ ...(ctx.options.signal ? { signal: ctx.options.signal } : {}), env: ctx.options.env, override: ctx.prepared.override });
      for (;;) {
        const next = await run.next();
        if (next.done) {
          ctx.toolchain = next.value;
          break;
        }
        if (next.value.type === "start") built = true;
        yield next.value;
      }
    }
    const tc = ctx.toolchain;
    if (!tc) throw new Error("ensureToolchain returned nothing");
    yield { type: "done", stage, title: `Toolchain: llama.cpp ${tc.commit.slice(0, 8)} (${tc.source})${built ? "" : ", cached"}`, seconds: (Date.now() - started) / 1000, cached: !built };
    return { cached: !built };
  },
  plan: async ({ toolchain }) => {
    if (toolchain.llamaCpp.ready && toolchain.python.ready) return [{ stage, what: `llama.cpp ${toolchain.llamaCpp.commit.slice(0, 8)} (${toolchain.source})`, cached: true, bytes: 0 }];
    const what = [!toolchain.llamaCpp.ready && `build llama.cpp ${toolchain.llamaCpp.commit.slice(0, 8)} (~5 min)`, !toolchain.python.ready && "create the Python env (torch: several GB, once)"].filter(Boolean).join("; ");
    // A CPU build of the tools is a few hundred MB; the torch wheel set is several GB. Both land in the cache folder.
    return [{ stage, what, cached: false, bytes: (toolchain.llamaCpp.ready ? 0 : 400_000_000) + (toolchain.python.ready ? 0 : 6_000_000_000) }];
  },
};
