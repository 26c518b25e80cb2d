import type { Artifact, PublishedSection, RunReport, StageEvent, StageTiming, ValidationSection } from "@gguf-pipeline/core";
import type { MergeAdapterInput } from "@gguf-pipeline/merge";
import type { Toolchain, ToolchainDescription } from "@gguf-pipeline/native";
import type { AllocatedMix, ChooseQuantsOutput, LadderError, LadderOutput } from "@gguf-pipeline/quantize";
import type { PreparedRecipe } from "../prepare-recipe.js";

/** How the caller wants the run done (the recipe says what to make). */
export interface RunOptions {
  force: boolean;
  /** How many quants run at once (default: planned from cores and free memory). */
  jobs?: number;
  /** Validation checks (by name, e.g. "chat template") whose failure is accepted. */
  allow: string[];
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Publish at the end (the recipe's `publish`); false with `--no-publish`. */
  publish: boolean;
  /** Plan the publish only: no write request (`pipeline publish --dry-run`). */
  dryRun?: boolean;
  /** One part of the run (`run --only`): "convert", "imatrix" or a quant type. */
  only?: string;
}

/** What the publish steps were cleared to use before any work (checked in openRun): never printed, never stored. */
export interface PublishAccess {
  /** user: the token's account, absent when publish.hf.folder writes the commit locally. */
  hf?: { hubUrl: string; accessToken: string; user?: string };
  /** The Ollama server, when one is configured (publish.ollama.host or OLLAMA_HOST) and answered. */
  ollama?: { host?: string };
}

/** What the steps of one run share: the prepared recipe, and what each step made for the ones after it. */
export interface RunContext {
  prepared: PreparedRecipe;
  options: RunOptions;
  startedAt: Date;
  /** `pipeline publish`: the finished run's report.json (a run builds its report as it goes). */
  finished?: RunReport;
  access: PublishAccess;
  toolchain?: Toolchain;
  /** The converted model (the base, when adapters are merged). */
  convert?: Artifact;
  adapters: MergeAdapterInput[];
  /** What the quants are made from and measured against: the converted model, or the merged one. */
  intermediate?: Artifact;
  imatrix?: Artifact;
  /** A vision-language model's projector (mmproj-<name>-<TYPE>.gguf), made once beside the text model's ladder. */
  mmproj?: Artifact;
  /** Quants chosen by budget (the recipe's quants.fit / maxKld), made by the choose step. */
  chosen?: ChooseQuantsOutput;
  /** The mixes' tensor-type files, by label, made by the mix step for the quantize step. */
  mixes?: Record<string, AllocatedMix>;
  ladder?: LadderOutput;
  /** Some quants failed: the others are kept, and the run fails at its end. */
  ladderError?: LadderError;
  validation?: ValidationSection;
  /** Failed validation checks that were not allowed, as `path: check: fact`. */
  validationFailed: string[];
  /** Where the results were published. */
  published?: PublishedSection;
  artifacts: Artifact[];
  timings: StageTiming[];
  /** What a dry run would do, to print (the Ollama plan: Modelfiles and blobs). */
  planLines: string[];
  /** Loads what the run's later steps will need, while a tool leaves a core idle (their `warmUp`s). */
  warmUp?: () => void;
}

/** What `plan` knows while it walks the steps: what is cached so far (a step after one that must run cannot be). */
export interface PlanContext {
  prepared: PreparedRecipe;
  force: boolean;
  toolchain: ToolchainDescription;
  convert?: Artifact;
  intermediate?: Artifact;
  imatrix?: Artifact;
  mmproj?: Artifact;
  /** The mixes whose tensor-type files are known (their sensitivity measured before). */
  mixes?: Record<string, AllocatedMix>;
  /** The cached artifacts found so far. */
  artifacts: Artifact[];
  /** False once a step will run: what it makes (and everything after it) is not known before the run. */
  known: boolean;
}

export interface PlannedStep {
  stage: string;
  what: string;
  cached: boolean;
  /** Bytes this step will write if it runs. */
  bytes: number;
}

export interface StepResult {
  /** Nothing was made: every output came from the cache. */
  cached: boolean;
}

/**
 * One step of a run. The run is the list of steps (run-steps.ts), which `runRecipe`, the CLI's task list and `plan`
 * all read, so they cannot disagree about what a recipe does.
 */
export interface RunStep {
  /** The stage its own start/done events carry, and its name in report.json's stage timings. */
  stage: string;
  /** Its task title before it starts. */
  title: (ctx: RunContext) => string;
  /**
   * Which part of a run fanned out across machines it belongs to (`run --only`): making the intermediate, the
   * importance matrix, the quants, or what follows once the parts are gathered (evaluate, license, validate, publish).
   */
  part: "convert" | "imatrix" | "choose" | "quantize" | "gather";
  /** Whether the recipe (and the caller) asks for this step; one that does not apply is neither run, shown nor planned. */
  applies: (prepared: PreparedRecipe, options: { publish: boolean }) => boolean;
  run: (ctx: RunContext) => AsyncGenerator<StageEvent, StepResult>;
  plan: (ctx: PlanContext) => Promise<PlannedStep[]>;
  /** Starts loading, in the background, the libraries its run loads on first use (called while the converter starts). */
  warmUp?: () => void;
}

/** The outputs of earlier steps a step needs; a step list in the wrong order is a bug, not a user error. */
export function need(ctx: RunContext): { toolchain: Toolchain; convert: Artifact; intermediate: Artifact } {
  if (!ctx.toolchain || !ctx.convert || !ctx.intermediate) throw new Error("an earlier step did not run");
  return { toolchain: ctx.toolchain, convert: ctx.convert, intermediate: ctx.intermediate };
}

/** A step's signal as a spreadable option. */
export function signalOf(ctx: RunContext): { signal?: AbortSignal } {
  return ctx.options.signal ? { signal: ctx.options.signal } : {};
}
