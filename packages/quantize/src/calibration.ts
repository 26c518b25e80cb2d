import { fileURLToPath } from "node:url";
import { resolveFrom, type LoadedRecipe } from "@gguf-pipeline/core";

/**
 * The texts shipped with this package (written for the project, MIT; see calibration/README.md): ~54k tokens of
 * prose, chat, code, numbers and several languages for imatrix calibration, and a held-out text of the same mix for
 * evaluation. Evaluation never uses the calibration text.
 */
export const defaultCalibrationText = fileURLToPath(new URL("../calibration/calibration.txt", import.meta.url));
export const defaultEvaluationText = fileURLToPath(new URL("../calibration/evaluation.txt", import.meta.url));

export function calibrationText(loaded: LoadedRecipe): string {
  const file = loaded.recipe.imatrix?.calibration;
  return file ? resolveFrom(loaded.dir, file) : defaultCalibrationText;
}

export function evaluationText(loaded: LoadedRecipe): string {
  const file = loaded.recipe.evaluate?.text;
  return file ? resolveFrom(loaded.dir, file) : defaultEvaluationText;
}
