import type { FromSchema } from "json-schema-to-ts";

/** The outtypes llama.cpp's convert_hf_to_gguf.py accepts for ordinary (non-ternary) models. */
export const convertOuttypes = ["f32", "f16", "bf16", "q8_0", "auto"] as const;

/**
 * The recipe's JSON Schema: the single source of truth. `Recipe` is derived from it, and `recipe.schema.json`
 * (for editors) is written from it at build time. Only keys a stage implements are accepted.
 */
const quantOptionProperties = {
  outputTensorType: { type: "string", minLength: 1, description: "llama-quantize --output-tensor-type: ggml type for output.weight (e.g. q8_0)." },
  tokenEmbeddingType: { type: "string", minLength: 1, description: "llama-quantize --token-embedding-type: ggml type for the token embeddings." },
  tensorTypes: {
    type: "array",
    items: { type: "string", pattern: "^[^=\\s]+=[A-Za-z0-9_]+$" },
    description: "llama-quantize --tensor-type PATTERN=TYPE, in order (e.g. \"attn_v=q8_0\").",
  },
  pure: { type: "boolean", description: "llama-quantize --pure: no k-quant mixture, every tensor in the one type." },
  leaveOutputTensor: { type: "boolean", description: "llama-quantize --leave-output-tensor: keep output.weight as it is." },
  overrideKv: {
    type: "array",
    items: { type: "string", pattern: "^[^=\\s]+=(int|float|bool|str):.*$" },
    description: "llama-quantize --override-kv KEY=TYPE:VALUE (TYPE: int, float, bool, str).",
  },
  allowRequantize: { type: "boolean", description: "llama-quantize --allow-requantize: needed when the intermediate is already quantized (convert.outtype q8_0)." },
  imatrix: { type: "boolean", description: "Use the recipe's importance matrix for this quant (default: true when `imatrix` is set)." },
} as const;

const quantEntrySchema = {
  anyOf: [
    { type: "string", minLength: 1 },
    { type: "object", additionalProperties: false, required: ["type"], properties: { type: { type: "string", minLength: 1 }, ...quantOptionProperties } },
    {
      type: "object",
      additionalProperties: false,
      required: ["mix"],
      description: "A file of a size, not a type: every tensor group gets its own type, chosen by measured sensitivity (see the README's \"Mixes by measured sensitivity\").",
      properties: {
        mix: {
          type: "object",
          additionalProperties: false,
          minProperties: 1,
          properties: {
            size: { anyOf: [{ type: "integer", minimum: 1 }, { type: "string", minLength: 1 }], description: "The file's size: bytes, or \"4.5GB\" (decimal units; GiB binary)." },
            bpw: { type: "number", minimum: 2.5, maximum: 8, description: "The file's bits per weight (its tensor data over the model's weights)." },
            fit: { type: "string", minLength: 1, description: "A memory budget (\"8GB\"; binary units, as quants.fit): the largest file whose memory at ctx fits it, with margin and reserve kept free." },
            ctx: { type: "integer", minimum: 256, description: "With fit: the context the budget is judged at (default 4096)." },
            margin: { type: "number", minimum: 0, maximum: 0.5, description: "With fit: the share of the budget kept free (default 0.1)." },
            reserve: { type: "string", minLength: 1, description: "With fit: memory kept free for the process (default \"64MB\")." },
          },
        },
        imatrix: quantOptionProperties.imatrix,
      },
    },
  ],
} as const;

const referenceProperties = {
  name: { type: "string", minLength: 1 },
  organization: { type: "string", minLength: 1 },
  version: { type: "string", minLength: 1 },
  url: { type: "string", minLength: 1 },
  repoUrl: { type: "string", minLength: 1, description: "e.g. https://huggingface.co/org/name" },
} as const;

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
    metadata: {
      type: "object",
      additionalProperties: false,
      description: "Stamped into every GGUF's general.* keys (llama.cpp's model-card names), through the converter's --metadata; general.name is the recipe's name.",
      properties: {
        version: { type: "string", minLength: 1, description: "general.version" },
        author: { type: "string", minLength: 1, description: "general.author" },
        organization: { type: "string", minLength: 1, description: "general.organization" },
        description: { type: "string", minLength: 1, description: "general.description" },
        url: { type: "string", minLength: 1, description: "general.url" },
        license: { type: "string", minLength: 1, description: "general.license: a Hub license identifier (apache-2.0, mit, llama3.1, other, ...)" },
        licenseName: { type: "string", minLength: 1, description: "general.license.name (for license: other)" },
        licenseLink: { type: "string", minLength: 1, description: "general.license.link" },
        tags: { type: "array", items: { type: "string", minLength: 1 }, description: "general.tags" },
        languages: { type: "array", items: { type: "string", minLength: 1 }, description: "general.languages" },
        baseModels: { type: "array", items: { type: "object", additionalProperties: false, required: ["name"], properties: referenceProperties }, description: "general.base_model.N.*" },
        datasets: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["name"],
            properties: { ...referenceProperties, license: { type: "string", minLength: 1, description: "The dataset's license (a Hub id): a stricter one than the model's stops the run unless metadata.license declares it." } },
          },
          description: "general.dataset.N.*",
        },
      },
    },
    licensePolicy: {
      type: "object",
      additionalProperties: false,
      description: "The license policy: the license comes from metadata.license or the source's model card and LICENSE files; license and notice files are copied into the output folder.",
      properties: {
        acceptNonCommercial: { type: "boolean", default: false, description: "Acknowledge that the result's license forbids commercial use (cc-by-nc-*, research licenses); without it such a run stops." },
        files: { type: "array", items: { type: "string", minLength: 1 }, description: "More license or notice files to ship with the model, relative to the recipe's folder." },
      },
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
    mmproj: {
      description: "A vision-language model's projector (convert_hf_to_gguf.py --mmproj), made once beside the text model's ladder as mmproj-<name>-<TYPE>.gguf. false: the text model only.",
      anyOf: [
        { const: false },
        {
          type: "object",
          additionalProperties: false,
          properties: {
            outtype: { enum: ["f32", "f16", "bf16", "q8_0"], default: "f16", description: "The projector's type: f16 by default (what llama.cpp's own releases ship); q8_0 at the least." },
          },
        },
      ],
    },
    adapters: {
      type: "array",
      minItems: 1,
      description: "PEFT LoRA adapter folders (adapter_config.json + adapter_model.safetensors) trained on the source model.",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["path"],
        properties: {
          path: { type: "string", minLength: 1, description: "The adapter folder, relative to the recipe's folder." },
          scale: { type: "number", default: 1, description: "How strongly to apply it (llama.cpp --lora-scaled; PEFT's scaling times this)." },
          name: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$", maxLength: 64, description: "Name in file names and metadata; default: the folder's name." },
        },
      },
    },
    merge: {
      type: "boolean",
      default: true,
      description: "true: merge the adapters into the model with llama-export-lora (the quants are made from the merged model); false: keep the base model and ship each adapter as a GGUF adapter (llama.cpp --lora, Ollama ADAPTER).",
    },
    quants: {
      description: "The quant ladder: llama-quantize types (any case; e.g. Q4_K_M, q8_0, IQ4_XS), each made from the convert output; an entry may be an object with per-quant llama-quantize options. Or quants chosen by budget: { \"fit\": [\"8GB\", \"16GB\"], \"ctx\": 8192, \"maxKld\"?: 0.05, \"also\"?: [\"Q8_0\"] }.",
      anyOf: [
        { type: "array", minItems: 1, items: quantEntrySchema },
        {
          type: "object",
          additionalProperties: false,
          required: ["fit"],
          properties: {
            fit: { type: "array", minItems: 1, items: { type: "string", minLength: 1 }, description: "Memory budgets (e.g. \"8GB\", \"512MB\"; binary units): for each, the highest-quality candidate whose memory at ctx fits, with `margin` of the budget and `reserve` kept free." },
            margin: { type: "number", minimum: 0, maximum: 0.5, default: 0.1, description: "The share of each budget kept free for everything else on the machine." },
            reserve: { type: "string", minLength: 1, default: "64MB", description: "Memory kept free for the llama.cpp process itself (its code, threads, tokenizer)." },
            ctx: { type: "integer", minimum: 256, default: 4096, description: "The context the budgets are judged at." },
            maxKld: { type: "number", exclusiveMinimum: 0, description: "Also the smallest candidate whose measured mean KL divergence (llama-perplexity against the reference, with the recipe's evaluate settings) stays under this." },
            also: { type: "array", items: quantEntrySchema, description: "Types made in any case." },
            candidates: { type: "array", minItems: 1, items: { type: "string", minLength: 1 }, description: "The types to choose from, best first (default Q8_0, Q6_K, Q5_K_M, Q4_K_M, IQ4_XS, Q3_K_M, Q2_K)." },
            mix: { type: "boolean", description: "Also, for each budget, the mix that fills it (a rung { mix: { fit } }; see the README's \"Mixes by measured sensitivity\"), beside the best standard type that fits." },
          },
        },
      ],
    },
    quantOptions: {
      type: "object",
      additionalProperties: false,
      description: "llama-quantize options for every quant (a quant's own options win).",
      properties: quantOptionProperties,
    },
    imatrix: {
      type: "object",
      additionalProperties: false,
      description: "Compute an importance matrix once with llama-imatrix from the convert output and use it for every quant (required for IQ1/IQ2/IQ3_XXS/Q2_K_S).",
      properties: {
        calibration: { type: "string", minLength: 1, description: "Calibration text; default: the mixed text shipped in packages/quantize/calibration/calibration.txt (prose, chat, code, numbers, several languages)." },
        chunks: { type: "integer", minimum: 1, description: "llama-imatrix --chunks: how many ctx-sized chunks of the text to use (default: all)." },
        ctx: { type: "integer", minimum: 8, default: 512, description: "llama-imatrix -c: tokens per chunk." },
      },
    },
    split: {
      type: "object",
      additionalProperties: false,
      required: ["maxSize"],
      description: "Split quants larger than maxSize into shards with llama-gguf-split (<name>-<TYPE>-00001-of-0000N.gguf).",
      properties: { maxSize: { type: "string", minLength: 1, description: "Largest shard, e.g. \"48G\" or \"500M\" (decimal units, as llama-gguf-split reads them)." } },
    },
    evaluate: {
      type: "object",
      additionalProperties: false,
      description: "Measure every quant with llama-perplexity against the convert output: perplexity, KL divergence (mean, p99) and top-token agreement.",
      properties: {
        text: { type: "string", minLength: 1, description: "Evaluation text; default: the held-out text shipped in packages/quantize/calibration/evaluation.txt (never the calibration text)." },
        ctx: { type: "integer", minimum: 8, default: 512, description: "llama-perplexity -c: tokens per chunk (the text needs at least 2 chunks)." },
        chunks: { type: "integer", minimum: 1, description: "llama-perplexity --chunks: at most this many chunks." },
        precision: { type: "number", minimum: 0, exclusiveMaximum: 1, default: 0.05, description: "Stop adding chunks once every quant's standard error of the mean KL divergence is under this share of its mean (after a first 8 chunks; the text, or chunks, is the cap); 0 measures the whole text. Text-generation models." },
      },
    },
    validate: {
      type: "object",
      additionalProperties: false,
      description: "The checks every run makes on its GGUF files (structure always; the smoke test as set here).",
      properties: {
        smoke: {
          enum: ["all", "smallest", "none"],
          default: "smallest",
          description: "Which files llama-completion loads and generates from through their own chat template: all models, the reference and the smallest quant (default), or none.",
        },
        prompt: { type: "string", minLength: 1, default: "Hello! Who are you?", description: "The user message for the smoke test." },
        tokens: { type: "integer", minimum: 1, maximum: 512, default: 16, description: "Tokens to generate in the smoke test." },
      },
    },
    publish: {
      type: "object",
      additionalProperties: false,
      description: "Where the validated results go at the end of `pipeline run` (and with `pipeline publish`): the Hugging Face Hub and Ollama. Nothing is published unless every check passed or was accepted with --allow.",
      properties: {
        hf: {
          type: "object",
          additionalProperties: false,
          required: ["repo"],
          description: "One atomic commit to a Hub model repo: the GGUFs, the model card, license files, report.json and the imatrix. The endpoint comes from HF_ENDPOINT, the token only from HF_TOKEN.",
          properties: {
            repo: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$", maxLength: 96, description: "owner/name of the model repo (created when missing)." },
            private: { type: "boolean", default: false, description: "Create the repo private (an existing repo keeps its visibility)." },
            branch: { type: "string", minLength: 1, default: "main", description: "The branch to commit to." },
            createPr: { type: "boolean", default: false, description: "Open a pull request with the commit instead of committing to the branch." },
            commitMessage: { type: "string", minLength: 1, description: "The commit's summary; default: what changed." },
            files: { type: "array", items: { type: "string", minLength: 1 }, description: "Which of the run's files to publish, as glob patterns over their names (default: all of them), e.g. [\"*Q4_K_M*\", \"*Q8_0*\"]." },
            baseModel: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$", maxLength: 96, description: "The Hub id of the model these files are made from (the card's base_model); default: the source's own id when its config.json names one." },
            adapterRepo: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$", maxLength: 96, description: "Unmerged GGUF adapters go to this repo (base_model_relation: adapter) instead of the model repo." },
            cardTemplate: { type: "string", minLength: 1, description: "A markdown file (relative to the recipe) that replaces the card's body; placeholders like {{repo}}, {{files_table}}, {{usage}}, {{provenance}}." },
            folder: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]*$", maxLength: 64, description: "Write the commit into this folder of the output folder (as <folder>/<owner>/<name>/) instead of sending it: the model card, report.json, the license files and links to the model files, as the repo would hold them. Needs no token and no network; `pipeline publish` without it sends the same files." },
          },
        },
        ollama: {
          type: "object",
          additionalProperties: false,
          required: ["name"],
          description: "Ollama models: a Modelfile folder per tag in the output folder, created on an Ollama server when host is set or OLLAMA_HOST is present, and pushed when push is true.",
          properties: {
            name: { type: "string", pattern: "^[a-z0-9][a-z0-9._/:-]*$", maxLength: 160, description: "The model name, e.g. \"tiny\" or \"registry.example.com/team/tiny\" (tags are added per quant)." },
            tags: { type: "array", items: { type: "string", minLength: 1 }, description: "Which files become tags, by quant type (default: every model file of the run)." },
            latest: { type: "string", minLength: 1, description: "The quant type `latest` points at (default: Q4_K_M when made, else the reference)." },
            system: { type: "string", minLength: 1, description: "SYSTEM message." },
            parameters: { type: "object", description: "PARAMETER lines (Ollama's names and types: num_ctx, temperature, stop, ...)." },
            template: { type: "string", minLength: 1, description: "A file (relative to the recipe) with the Go TEMPLATE, instead of converting the GGUF's chat template." },
            host: { type: "string", minLength: 1, description: "The Ollama server (default: OLLAMA_HOST when set; without either, only the Modelfile folders are written)." },
            push: { type: "boolean", default: false, description: "Push every tag to its registry after creating it." },
            insecure: { type: "boolean", default: false, description: "Allow a plain-HTTP registry for push." },
          },
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
