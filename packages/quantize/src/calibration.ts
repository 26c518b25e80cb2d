import { fileURLToPath } from "node:url";
import { resolveFrom, type LoadedRecipe } from "@gguf-pipeline/core";

/** The public-domain text shipped with this package: the default for imatrix calibration and evaluation. */
export const defaultCalibrationText = fileURLToPath(new URL("../calibration/default.txt", import.meta.url));

export function calibrationText(loaded: LoadedRecipe): string {
  const file = loaded.recipe.imatrix?.calibration;
  return file ? resolveFrom(loaded.dir, file) : defaultCalibrationText;
}

export function evaluationText(loaded: LoadedRecipe): string {
  const file = loaded.recipe.evaluate?.text;
  return file ? resolveFrom(loaded.dir, file) : defaultCalibrationText;
}
