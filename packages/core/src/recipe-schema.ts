import type { FromSchema } from "json-schema-to-ts";

/** The outtypes llama.cpp's convert_hf_to_gguf.py accepts for ordinary (non-ternary) models. */
export const convertOuttypes = ["f32", "f16", "bf16", "q8_0", "auto"] as const;

/**
 * The recipe's JSON Schema: the single source of truth. `Recipe` is derived from it, and `recipe.schema.json`
 * (for editors) is written from it at build time. Only keys a stage implements are accepted.
 */
export const recipeSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "gguf-pipeline recipe",
  description: "One model in, GGUF files out: what to convert and where to put it.",
  type: "object",
  additionalProperties: false,
  required: ["source"],
  properties: {
    $schema: { type: "string", description: "Path or URL of this schema, for editors." },
    name: {
      type: "string",
      pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
      maxLength: 96,
      description: "Base name of the output files (<name>-<TYPE>.gguf) and the GGUF general.name. Default: the source folder's name.",
    },
    source: {
      type: "object",
      additionalProperties: false,
      required: ["path"],
      description: "The model to package.",
      properties: {
        path: {
          type: "string",
          minLength: 1,
          description: "A Hugging Face model folder: config.json, tokenizer files and *.safetensors (sharded or not). Relative to the recipe's folder.",
        },
      },
    },
    output: {
      type: "object",
      additionalProperties: false,
      description: "Where results go.",
      properties: {
        dir: { type: "string", minLength: 1, default: "out", description: "Output folder, relative to the recipe's folder. `--out` overrides it." },
      },
    },
    convert: {
      type: "object",
      additionalProperties: false,
      description: "Options for llama.cpp's convert_hf_to_gguf.py.",
      properties: {
        outtype: {
          enum: convertOuttypes,
          default: "auto",
          description: "GGUF tensor type: f32, f16, bf16, q8_0, or auto (the highest-fidelity 16-bit type for the source).",
        },
      },
    },
    toolchain: {
      type: "object",
      additionalProperties: false,
      description: "Use your own llama.cpp instead of the pinned build (the GGUF_PIPELINE_LLAMA_CPP, GGUF_PIPELINE_LLAMA_CPP_BIN and GGUF_PIPELINE_PYTHON environment variables win over these).",
      properties: {
        llamaCpp: { type: "string", minLength: 1, description: "A llama.cpp source tree (for convert_hf_to_gguf.py and gguf-py)." },
        binDir: { type: "string", minLength: 1, description: "Its built binaries; default <llamaCpp>/build/bin." },
        python: { type: "string", minLength: 1, description: "A Python with torch, transformers, sentencepiece, numpy and safetensors." },
      },
    },
  },
} as const;

export type Recipe = FromSchema<typeof recipeSchema>;
export type ConvertOuttype = (typeof convertOuttypes)[number];
