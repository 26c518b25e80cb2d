import { adaptersStep } from "./adapters-step.js";
import { convertStep } from "./convert-step.js";
import { evaluateStep } from "./evaluate-step.js";
import { imatrixStep } from "./imatrix-step.js";
import { licenseStep } from "./license-step.js";
import { mergeStep } from "./merge-step.js";
import { publishHubStep } from "./publish-hub-step.js";
import { quantizeStep } from "./quantize-step.js";
import type { RunStep } from "./run-context.js";
import { toolchainStep } from "./toolchain-step.js";
import { validateStep } from "./validate-step.js";

/** The run, in order. `runRecipe`, the CLI's task list and `plan` all walk this one list. */
export const runSteps: readonly RunStep[] = [toolchainStep, convertStep, adaptersStep, mergeStep, imatrixStep, quantizeStep, evaluateStep, licenseStep, validateStep, publishHubStep];
