// Build step: writes recipe.schema.json (for editors and the npm package) from the schema in code, and the schema's
// validator as standalone code (dist/recipe/recipe-validate.js), so a run imports neither ajv nor compiles the schema.
import { writeFileSync } from "node:fs";
import { Ajv } from "ajv";
import standalone from "ajv/dist/standalone/index.js";
import { recipeValidatorOptions } from "./load-recipe.js";
import { recipeSchema } from "./recipe-schema.js";

writeFileSync(new URL("../../recipe.schema.json", import.meta.url), `${JSON.stringify(recipeSchema, null, 2)}\n`);
const ajv = new Ajv({ ...recipeValidatorOptions, code: { source: true, esm: true } });
// ajv's ESM output still `require`s its small runtime helpers (ucs2length for maxLength): make those imports.
const imports: string[] = [];
const code = standalone.default(ajv, ajv.compile(recipeSchema)).replace(/require\("(ajv\/dist\/runtime\/[\w-]+)"\)/g, (_all, path: string) => {
  imports.push(`import runtime${imports.length} from "${path}.js";`);
  return `runtime${imports.length - 1}`;
});
writeFileSync(new URL("./recipe-validate.js", import.meta.url), `${imports.join("\n")}\n${code}`);
