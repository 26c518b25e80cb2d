import { ensureGoTool, type GoToolName } from "@gguf-pipeline/native";

const built = new Map<GoToolName, Promise<string>>();

/** The path of a pinned helper binary (the end-to-end global setup builds it; here this only reads its marker). */
export function goToolBin(name: GoToolName): Promise<string> {
  let bin = built.get(name);
  if (!bin) {
    bin = (async () => {
      const run = ensureGoTool({ name });
      for (;;) {
        const next = await run.next();
        if (next.done) return next.value.bin;
      }
    })();
    built.set(name, bin);
  }
  return bin;
}
