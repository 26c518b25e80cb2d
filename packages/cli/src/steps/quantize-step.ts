import { configShape, estimateMemory, findCachedArtifacts, formatBytes } from "@gguf-pipeline/core";
import { LadderError, nominalQuantBytes, parseSplitSize, quantCacheKey, quantChoiceSpec, quantJobs, runLadder } from "@gguf-pipeline/quantize";
import { need, signalOf, type RunStep } from "./run-context.js";
import { mixContext } from "./mix-context.js";

const stage = "quantize";

/** The quant ladder with llama-quantize, each rung from the intermediate; a failed rung does not stop the others. */
export const quantizeStep: RunStep = {
  stage,
  part: "quantize",
  title: ({ prepared, chosen }) => `Quantize ${quantJobs(prepared.loaded.recipe, chosen?.chosen, mixContext(prepared)).map((j) => j.type).join(", ") || "the chosen types"}`,
  applies: (prepared) => quantJobs(prepared.loaded.recipe).length > 0 || Boolean(quantChoiceSpec(prepared.loaded.recipe)),
  run: async function* (ctx) {
    const { toolchain, intermediate } = need(ctx);
    const { loaded } = ctx.prepared;
    // `run --only TYPE` makes just that rung.
    const only = ctx.options.only?.toUpperCase();
    const jobs = quantJobs(loaded.recipe, ctx.chosen?.chosen, mixContext(ctx.prepared, ctx.mixes)).filter((j) => !only || j.type === only);
    const started = Date.now();
    const splitSpec = loaded.recipe.split?.maxSize;
    const splitBytes = splitSpec ? parseSplitSize(splitSpec) : undefined;
    let done = 0;
    const ladder = runLadder({
      jobs,
      input: intermediate,
      ...(ctx.imatrix ? { imatrix: ctx.imatrix } : {}),
      outDir: loaded.outDir,
      name: loaded.name,
      ...(splitSpec && splitBytes ? { split: { spec: splitSpec, bytes: splitBytes } } : {}),
      toolchain,
      force: ctx.options.force,
      ...(ctx.options.jobs ? { concurrency: ctx.options.jobs } : {}),
      ...signalOf(ctx),
    });
    try {
      for (;;) {
        const next = await ladder.next();
        if (next.done) {
          ctx.ladder = next.value;
          break;
        }
        const event = next.value;
        yield event;
        if (event.type === "artifact") ctx.artifacts.push(event.artifact);
        if (event.type === "done" && event.stage !== stage) {
          done++;
          // The ladder's title counts the finished quants.
          yield { type: "start", stage, title: `Quantize: ${done}/${jobs.length} done` };
        }
      }
    } catch (error) {
      if (!(error instanceof LadderError)) throw error;
      ctx.ladderError = error;
      yield { type: "log", stage, level: "warn", message: error.message };
    } finally {
      await ladder.return(undefined as never);
    }
    const cached = Boolean(ctx.ladder?.results.every((r) => r.cached));
    const failed = ctx.ladderError ? `, ${ctx.ladderError.failures.length} FAILED` : "";
    yield { type: "done", stage, title: `Quantize: ${done}/${jobs.length} done${failed}${cached ? " — cached" : ""}`, seconds: (Date.now() - started) / 1000, cached };
    return { cached };
  },
  plan: async (ctx) => {
    const { loaded, source } = ctx.prepared;
    const split = loaded.recipe.split?.maxSize;
    const steps = [];
    for (const job of quantJobs(loaded.recipe, [], mixContext(ctx.prepared, ctx.mixes))) {
      // A quant is cached only if what it is made from is: the intermediate, and the imatrix for those that use one.
      const input = ctx.intermediate;
      // A mix's tensor types are known only once its sensitivity has been measured.
      const usable = input && (!job.useImatrix || ctx.imatrix) && (!job.mix || job.mix.tensorTypes);
      const key = usable ? quantCacheKey({ job, input, ...(job.useImatrix && ctx.imatrix ? { imatrix: ctx.imatrix } : {}), ...(split && parseSplitSize(split) ? { split } : {}), commit: ctx.toolchain.llamaCpp.commit }) : undefined;
      // A rung of the intermediate's own type is the intermediate itself.
      const own = input && `${loaded.name}-${job.type}.gguf` === input.path ? [input] : undefined;
      const found = own ?? (key && !ctx.force ? await findCachedArtifacts({ outDir: loaded.outDir, cacheKey: key }) : undefined);
      if (found) ctx.artifacts.push(...found);
      else ctx.known = false;
      const bytes = job.mix ? job.mix.target.bytes : nominalQuantBytes({ type: job.type, parameters: source.parameterCount });
      // What it will take to run, before the file exists: our estimate from config.json at 4k (or the model's own).
      const shape = configShape({ config: source.config, weightsBytes: bytes });
      const runCtx = Math.min(4096, typeof source.config.max_position_embeddings === "number" ? source.config.max_position_embeddings : 4096);
      const run = shape ? `, ~${formatBytes(estimateMemory({ shape, ctx: runCtx }).totalBytes)} to run at ctx ${runCtx}` : "";
      const what = job.mix ? `a mix of ${formatBytes(bytes)} (${job.mix.target.bpw.toFixed(2)} bpw; the Hub's label ${job.type})` : `~${formatBytes(bytes)}`;
      steps.push({ stage, what: `${loaded.name}-${job.type}.gguf (${what}${run})${job.useImatrix ? " with imatrix" : ""}`, cached: Boolean(found), bytes: found ? 0 : bytes });
    }
    return steps;
  },
};
