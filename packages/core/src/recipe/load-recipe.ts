import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import type { ErrorObject, ValidateFunction } from "ajv";
import type { Node, ParseError } from "jsonc-parser";
import { InputError, RecipeError } from "../errors.js";
import { recipeSchema, type Recipe } from "./recipe-schema.js";
import { sha256 } from "../files/sha256.js";
import { suggest } from "../suggest.js";

/** A problem a semantic check found, at a place in the recipe. */
export interface RecipeProblem {
  /** Path to the offending value, e.g. ["quants", 2]. */
  path: (string | number)[];
  message: string;
  hint: string;
}

/** A check beyond the schema (names, cross-field rules, referenced files). Paths in the recipe are already absolute. */
export type RecipeCheck = (loaded: LoadedRecipe) => RecipeProblem[] | Promise<RecipeProblem[]>;

export interface LoadRecipeParams {
  /** Path of recipe.json. */
  file: string;
  /** Semantic checks from the stages; the first problem becomes a RecipeError with its line. */
  checks?: RecipeCheck[];
  /** Overrides `output.dir` (the CLI's `--out`), resolved against the working directory. */
  outDir?: string;
}

/** A validated recipe with every path made absolute. */
export interface LoadedRecipe {
  file: string;
  /** The recipe's folder: relative paths in it resolve here. */
  dir: string;
  /** sha256 of the file's bytes, recorded in report.json. */
  sha256: string;
  recipe: Recipe;
  name: string;
  sourceDir: string;
  outDir: string;
  outtype: NonNullable<NonNullable<Recipe["convert"]>["outtype"]>;
}

let validator: Promise<ValidateFunction> | undefined;

/**
 * The recipe schema's validator: the one the build compiled ahead of time (dist/recipe/recipe-validate.js, from ajv's
 * standalone code: importing and compiling ajv costs a third of a second on every run), else compiled here.
 */
function recipeValidator(): Promise<ValidateFunction> {
  validator ??= import(new URL("./recipe-validate.js", import.meta.url).href).then(
    (compiled: { default: ValidateFunction }) => compiled.default,
    async () => {
      const { Ajv } = await import("ajv");
      return new Ajv(recipeValidatorOptions).compile(recipeSchema);
    },
  );
  return validator;
}

export const recipeValidatorOptions = { allErrors: true, strict: true, useDefaults: false } as const;

/** Reads and validates recipe.json; errors name the JSON path, the line, and a suggestion for a misspelling. */
export async function loadRecipe(params: LoadRecipeParams): Promise<LoadedRecipe> {
  const file = resolve(params.file);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new InputError({ file: params.file, message: "cannot read the recipe", hint: "pass the path of a recipe.json", cause: error });
  }
  // jsonc-parser (its syntax tree gives the line of a problem) is loaded only when there is a problem to place.
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    const { parseTree, printParseErrorCode } = await import("jsonc-parser");
    const parseErrors: ParseError[] = [];
    const tree = parseTree(text, parseErrors, { allowTrailingComma: false, disallowComments: true });
    const firstParseError = parseErrors[0];
    throw new RecipeError({
      file: params.file,
      jsonPath: "",
      line: firstParseError ? lineOf(text, firstParseError.offset) : 1,
      message: `not valid JSON (${firstParseError ? printParseErrorCode(firstParseError.error) : tree ? "not JSON" : "empty file"})`,
      hint: "fix the JSON syntax; see examples/tiny/recipe.json",
    });
  }
  const validate = await recipeValidator();
  if (!validate(data)) {
    const errors = (validate.errors ?? []).filter(isReportable);
    const first = errors[0];
    if (first) throw toRecipeError(first, params.file, text, await syntaxTree(text));
  }
  const recipe = data as Recipe;
  const dir = dirname(file);
  const sourceDir = resolveFrom(dir, recipe.source.path);
  const loaded: LoadedRecipe = {
    file,
    dir,
    sha256: sha256(text),
    recipe,
    name: recipe.name ?? sanitizeName(sourceDir),
    sourceDir,
    outDir: params.outDir ? resolve(params.outDir) : resolveFrom(dir, recipe.output?.dir ?? "out"),
    outtype: recipe.convert?.outtype ?? "auto",
  };
  // A name is part of every output file's name (and of its hidden partial name): longer ones make names no file system takes.
  if (!recipe.name && loaded.name.length > maxNameLength) {
    const node = (await syntaxTree(text))(["source", "path"]);
    throw new RecipeError({ file: params.file, jsonPath: "$.source.path", ...(node ? { line: lineOf(text, node.offset) } : {}), message: `the output files are named after the source folder, whose name has ${loaded.name.length} characters: more than the ${maxNameLength} a name may have`, hint: `set "name" in the recipe (letters, digits, ".", "_", "-"; at most ${maxNameLength})` });
  }
  for (const check of params.checks ?? []) {
    const problem = (await check(loaded))[0];
    if (problem) {
      const node = (await syntaxTree(text))(problem.path);
      const jsonPath = `$${problem.path.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("")}`;
      throw new RecipeError({ file: params.file, jsonPath, ...(node ? { line: lineOf(text, node.offset) } : {}), message: problem.message, hint: problem.hint });
    }
  }
  return loaded;
}

/** Finds the syntax node at a JSON path of the recipe (for its line). */
type Locate = (path: (string | number)[]) => Node | undefined;

/** The recipe's syntax tree as a locator (the text already parsed as JSON). */
async function syntaxTree(text: string): Promise<Locate> {
  const { findNodeAtLocation, parseTree } = await import("jsonc-parser");
  const tree = parseTree(text);
  return (path) => (tree ? findNodeAtLocation(tree, path) : undefined);
}

export function resolveFrom(dir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dir, path);
}

/** The schema's maxLength for `name`: with the longest suffix and a partial file's, names stay far under 255 bytes. */
const maxNameLength = 96;

function sanitizeName(dir: string): string {
  const base = dir.split(/[\\/]/).filter(Boolean).pop() ?? "model";
  return base.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "") || "model";
}

// ajv reports a failed `if`/anyOf wrapper beside the real cause; the cause is what the user needs.
function isReportable(error: ErrorObject): boolean {
  return error.keyword !== "if" && error.keyword !== "anyOf";
}

function toRecipeError(error: ErrorObject, file: string, text: string, locate: Locate): RecipeError {
  const segments = error.instancePath.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  const path = segments.map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const jsonPath = `$${segments.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join("")}`;
  const node = locate(path);
  let line = node ? lineOf(text, node.offset) : undefined;
  const at = jsonPath === "$" ? "the recipe" : jsonPath;

  switch (error.keyword) {
    case "additionalProperty":
    case "additionalProperties": {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys(schemaAt(segments)?.properties ?? {});
      const keyNode = node?.children?.find((p) => p.children?.[0]?.value === key)?.children?.[0];
      if (keyNode) line = lineOf(text, keyNode.offset);
      const guess = suggest(key, allowed);
      return new RecipeError({
        file,
        jsonPath: `${jsonPath === "$" ? "$" : jsonPath}.${key}`,
        ...(line ? { line } : {}),
        message: `unknown key "${key}" in ${at}`,
        hint: guess ? `did you mean "${guess}"?` : `allowed keys: ${allowed.join(", ")}`,
      });
    }
    case "enum": {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map(String);
      const value = node?.value;
      const guess = typeof value === "string" ? suggest(value, allowed) : undefined;
      return new RecipeError({
        file,
        jsonPath,
        ...(line ? { line } : {}),
        message: `${at} is ${JSON.stringify(value)}, which is not one of ${allowed.join(", ")}`,
        hint: guess ? `did you mean "${guess}"?` : `use one of ${allowed.join(", ")}`,
      });
    }
    case "required": {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      return new RecipeError({ file, jsonPath: `${jsonPath}.${missing}`, ...(line ? { line } : {}), message: `${at} needs "${missing}"`, hint: `add "${missing}"; see examples/tiny/recipe.json` });
    }
    default:
      return new RecipeError({ file, jsonPath, ...(line ? { line } : {}), message: `${at} ${error.message ?? "is invalid"}`, hint: describe(segments) ?? "see recipe.schema.json" });
  }
}

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  description?: string;
}

function schemaAt(segments: string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = recipeSchema as unknown as SchemaNode;
  for (const segment of segments) node = node?.properties?.[segment];
  return node;
}

function describe(segments: string[]): string | undefined {
  return schemaAt(segments)?.description;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
