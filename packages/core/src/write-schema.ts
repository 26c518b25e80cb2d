// Build step: writes recipe.schema.json (for editors and the npm package) from the schema in code.
import { writeFileSync } from "node:fs";
import { recipeSchema } from "./recipe-schema.js";

writeFileSync(new URL("../recipe.schema.json", import.meta.url), `${JSON.stringify(recipeSchema, null, 2)}\n`);
