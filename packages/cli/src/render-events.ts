import { Listr, type ListrTask } from "listr2";
import { forTerminal, redactSecrets, type StageEvent } from "@gguf-pipeline/core";
import type { Emit } from "./drain.js";

/** One unit of a run as the CLI shows it: a title and work that emits stage events. */
export interface Step<C> {
  title: string;
  /**
   * The stage whose start/done events set this task's title. Events of other stages (e.g. one quant of the ladder,
   * `quantize:Q4_K_M`) show as output lines. Without it, every start/done sets the title.
   */
  stage?: string;
  run: (ctx: C, emit: Emit) => Promise<void>;
}

export type OutputMode = "tty" | "lines" | "json";

export interface RenderStepsParams<C> {
  steps: Step<C>[];
  ctx: C;
  mode: OutputMode;
  /** Where --json events go (stdout by default). */
  write?: (line: string) => void;
}

/**
 * Shows a run: a live listr2 task tree on a TTY, its line renderer when not a TTY or under CI,
 * or one JSON event per line (`--json`) for machines.
 */
export async function renderSteps<C>(params: RenderStepsParams<C>): Promise<void> {
  const { steps, ctx } = params;
  if (params.mode === "json") {
    const write = params.write ?? ((line: string) => process.stdout.write(`${line}\n`));
    for (const step of steps) {
      // JSON escapes control characters itself; a secret in an event's text is redacted all the same.
      await step.run(ctx, (event) => write(redactSecrets(JSON.stringify({ time: new Date().toISOString(), ...event }))));
    }
    return;
  }
  const tasks: ListrTask<C>[] = steps.map((step) => ({
    title: forTerminal(step.title),
    task: async (c, task) => {
      await step.run(c, (raw: StageEvent) => {
        const event = safeEvent(raw);
        const own = !step.stage || event.stage === step.stage;
        switch (event.type) {
          case "start":
            if (own) task.title = event.title;
            else task.output = `${event.title}…`;
            break;
          case "progress":
            task.output = event.ratio !== undefined ? `${Math.round(event.ratio * 100)}% ${event.message}` : event.message;
            break;
          case "log":
          case "cache-hit":
            task.output = event.message;
            break;
          case "done":
            if (own) task.title = event.title;
            else task.output = event.title;
            break;
          case "artifact":
            break;
        }
      });
    },
  }));
  const listr = new Listr<C, "default", "simple">(tasks, {
    ctx,
    concurrent: false,
    exitOnError: true,
    registerSignalListeners: false,
    renderer: "default",
    // The line renderer prints each title and output change as its own line: readable in CI logs and pipes.
    fallbackRenderer: "simple",
    fallbackRendererCondition: params.mode !== "tty",
    rendererOptions: { collapseSubtasks: false },
  });
  await listr.run();
}

/** An event's words as they may reach a terminal: redacted, control characters escaped. */
function safeEvent(event: StageEvent): StageEvent {
  if (event.type === "start" || event.type === "done") return { ...event, title: forTerminal(event.title) };
  if (event.type === "progress" || event.type === "log" || event.type === "cache-hit") return { ...event, message: forTerminal(event.message) };
  return event;
}
