import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { chatShapes, scanGguf } from "@gguf-pipeline/core";
import type { GgufValue, RunReport } from "@gguf-pipeline/core";
import { LocalFileError, PublishError } from "../errors.js";
import { ollamaChatTemplate } from "./chat-template.js";
import { closestTemplate, type TemplateCandidate } from "./closest-template.js";
import { promptParity } from "./prompt-parity.js";
import { renderOllamaPrompt } from "./render-ollama-prompt.js";
import { templateFromPrompts } from "./template-from-prompts.js";
import { checkOllamaParameters } from "./parameters.js";
import type { OllamaParameterValue } from "./parameters.js";
import type { OllamaModelKind } from "./tags.js";
import { readTokenTexts } from "./read-token-texts.js";
import type { OllamaSettings } from "../publish-types.js";

/** What goes into a model besides its files: TEMPLATE, SYSTEM, PARAMETERs, LICENSEs. */
export interface OllamaModelContent {
  template?: string;
  system?: string;
  parameters: Record<string, OllamaParameterValue>;
  licenses: string[];
  /** Where the template came from, for the plan: "recipe", "Ollama's library (zephyr)", "converted from the GGUF". */
  templateFrom?: string;
  /** What the user must hear about the template (it renders other prompts than the model's own). */
  warnings?: string[];
}

/** The parts every tag shares, read once: the recipe's template file and parameters, the license texts. */
export interface SharedContent {
  recipeTemplate?: string;
  parameters: Record<string, OllamaParameterValue>;
  system?: string;
  licenses: string[];
  /** The source's chat template rendered for the chat shapes (report.json's validation.chat), to hold TEMPLATE to. */
  chat?: NonNullable<NonNullable<RunReport["validation"]>["chat"]>;
}

export async function readSharedContent(params: { settings: OllamaSettings; recipeDir: string; outDir: string; report: RunReport }): Promise<SharedContent> {
  const { settings } = params;
  let recipeTemplate: string | undefined;
  if (settings.template) {
    const file = resolve(params.recipeDir, settings.template);
    recipeTemplate = await readFile(file, "utf8").catch((error: unknown) => {
      throw new PublishError({ message: `cannot read the Ollama template (publish.ollama.template): ${(error as Error).message}`, exitCode: 2, file, hint: "fix the path (it is relative to the recipe)" });
    });
  }
  const checked = checkOllamaParameters(settings.parameters ?? {});
  const problem = checked.problems[0];
  if (problem) throw new PublishError({ message: `publish.ollama.parameters: ${problem.message}`, exitCode: 2, hint: problem.hint });
  const chat = params.report.validation?.chat;
  return { ...(recipeTemplate !== undefined ? { recipeTemplate } : {}), parameters: checked.values, ...(settings.system ? { system: settings.system } : {}), licenses: await licenseTexts(params.outDir, params.report), ...(chat ? { chat } : {}) };
}

/** The shipped license files' texts; without files, the license's name and link (Ollama's LICENSE is free text). */
async function licenseTexts(outDir: string, report: RunReport): Promise<string[]> {
  const license = report.license;
  if (!license) return [];
  if (license.files.length === 0) return [`${license.name ?? license.id}${license.link ? ` — ${license.link}` : ""}`];
  return Promise.all(
    license.files.map((f) =>
      readFile(join(outDir, f), "utf8").catch((error: unknown) => {
        throw new LocalFileError({ file: f, message: `cannot read the license file the run shipped (${(error as Error).message})`, cause: error });
      }),
    ),
  );
}

/**
 * The content for one model file: for a chat model, the TEMPLATE (the recipe's, else the GGUF's chat template
 * converted) and `stop` = the template's markers + the model's EOS/EOT texts + the recipe's; for an embedding model
 * neither (Ollama never renders a prompt for /api/embed). A template that cannot be had is one line asking for one.
 */
export async function modelContent(params: { file: string; label: string; kind: OllamaModelKind; shared: SharedContent }): Promise<OllamaModelContent> {
  const { shared } = params;
  const base = { ...(shared.system ? { system: shared.system } : {}), licenses: shared.licenses };
  if (params.kind === "embedding") return { ...base, parameters: shared.parameters };
  const meta = (await scanGguf({ file: params.file }).catch((error: unknown) => {
    throw new LocalFileError({ file: params.label, message: `cannot read its GGUF header (${(error as Error).message})`, cause: error });
  })).metadata;
  const ids = { bos: num(meta["tokenizer.ggml.bos_token_id"]), eos: num(meta["tokenizer.ggml.eos_token_id"]), eot: num(meta["tokenizer.ggml.eot_token_id"]), eom: num(meta["tokenizer.ggml.eom_token_id"]) };
  const texts = await readTokenTexts({ file: params.file, ids: Object.values(ids).filter((v): v is number => v !== undefined) });
  const text = (id: number | undefined) => (id === undefined ? undefined : texts.get(id));
  const endTokens = [text(ids.eos), text(ids.eot), text(ids.eom)].filter((t): t is string => !!t);
  let template: string;
  let stop: string[];
  let extra: Record<string, unknown> = {};
  let templateFrom: string;
  const warnings: string[] = [];
  if (shared.recipeTemplate !== undefined) {
    template = shared.recipeTemplate;
    stop = [];
    templateFrom = "the recipe (publish.ollama.template)";
  } else {
    const chatTemplate = meta["tokenizer.chat_template"];
    const hint = "write the Go template (e.g. {{ .Prompt }} for a base model) into a file and set publish.ollama.template to it";
    if (typeof chatTemplate !== "string" || !chatTemplate.trim()) throw new PublishError({ message: "the model has no chat template (tokenizer.chat_template) to give Ollama, and Ollama would guess one", exitCode: 2, file: params.label, hint });
    const addBos = meta["tokenizer.ggml.add_bos_token"];
    const [bosToken, eosToken] = [text(ids.bos), text(ids.eos)];
    // llama.cpp's default when the key is missing: SentencePiece vocabularies add BOS, the others do not.
    const adds = typeof addBos === "boolean" ? addBos : meta["tokenizer.ggml.model"] === "llama";
    const converted = ollamaChatTemplate({ chatTemplate, ...(bosToken ? { bosToken } : {}), ...(eosToken ? { eosToken } : {}), addBos: adds });
    // No converter renders it (SmolVLM's takes typed message parts): one written from the model's own prompts, if exact.
    const written = !converted && shared.chat ? templateFromPrompts({ shapes: shared.chat.shapes }) : undefined;
    if (!converted && !written) throw new PublishError({ message: "its chat template (tokenizer.chat_template) cannot be converted to an Ollama Go template", exitCode: 2, file: params.label, hint });
    if (!converted && written) warnings.push(`${params.label}: its chat template cannot be converted to an Ollama template; the Modelfile's is written from the model's own prompts and renders every conversation compared as the model does, without tool calls — set publish.ollama.template for more`);
    const first: TemplateCandidate = converted ? { ...converted, from: converted.how === "known" ? "Ollama's library template for this chat format" : "converted from the GGUF's chat template" } : { template: written?.template ?? "", stop: written?.stop ?? [], parameters: {}, from: "written from the model's own prompts (its chat template cannot be converted)" };
    // The model's own Jinja converted, where it renders more of the model's prompts than the library's template.
    const own = converted?.converted ? [{ ...converted.converted, from: "converted from the GGUF's chat template (it renders the model's prompts closer than Ollama's library template)" }] : [];
    const chosen = shared.chat ? closestTemplate({ candidates: [first, ...own], ...(shared.system ? { system: shared.system } : {}), chat: shared.chat }) : first;
    ({ template, stop, parameters: extra, from: templateFrom } = chosen);
    const d = converted?.differs;
    // Never silent: a fine-tune's changed template rendered as the stock one is other prompts than it was trained on.
    // Without the model's own renderings (no validation ran) the matcher's guess is all there is to say; with them,
    // the rendered prompts decide (holdToModel).
    if (d && !shared.chat) warnings.push(`${params.label}: its chat template starts like Ollama's "${d.family}" template but differs at character ${d.at} (${d.ours} where the library has ${d.theirs}); the Modelfile gets the library template, which renders other prompts than the model's own — write a matching Go template into a file and set publish.ollama.template to it`);
  }
  const parity = holdToModel({ template, system: shared.system, chat: shared.chat, label: params.label, fromRecipe: shared.recipeTemplate !== undefined });
  if (parity.warning) warnings.push(parity.warning);
  // Go templates have no clock: a converted template carries the date its conversion rendered.
  const jinja = meta["tokenizer.chat_template"];
  if (shared.recipeTemplate === undefined && typeof jinja === "string" && jinja.includes("strftime_now")) warnings.push(`${params.label}: the model's chat template writes the current date (strftime_now), which an Ollama template cannot: the Modelfile's template writes the date of this run for ever — publish again to move it, or set publish.ollama.template`);
  const refused = refusedButRendered({ template, system: parity.system ?? shared.system, chat: shared.chat, label: params.label });
  if (refused) warnings.push(refused);
  const library = checkOllamaParameters(extra).values;
  const recipeStop = shared.parameters.stop;
  const stops = [...new Set([...stop, ...endTokens, ...(Array.isArray(recipeStop) ? recipeStop : [])])];
  return { ...base, ...(parity.system && !shared.system ? { system: parity.system } : {}), template, templateFrom, ...(warnings.length ? { warnings } : {}), parameters: { ...library, ...shared.parameters, ...(stops.length ? { stop: stops } : {}) } };
}

/**
 * The TEMPLATE held to the model's own chat template, conversation by conversation, as `ollama serve` renders it. A
 * template that writes a system turn of its own when a chat has none (Qwen's "You are Qwen…") gets it as the
 * Modelfile's SYSTEM, when that makes more of them equal and the recipe set none. What still differs is one line.
 */
function holdToModel(params: { template: string; system: string | undefined; chat: SharedContent["chat"]; label: string; fromRecipe: boolean }): { system?: string; warning?: string } {
  if (!params.chat) return {};
  let result = promptParity({ template: params.template, ...(params.system ? { system: params.system } : {}), shapes: params.chat.shapes });
  let system: string | undefined;
  const fallback = params.chat.defaultSystem;
  if (result.differs.length > 0 && fallback && !params.system) {
    const withDefault = promptParity({ template: params.template, system: fallback, shapes: params.chat.shapes });
    if (withDefault.differs.length < result.differs.length) {
      result = withDefault;
      system = fallback;
    }
  }
  if (result.differs.length === 0) return system ? { system } : {};
  const first = result.differs[0];
  const where = first ? `; first in ${first.shape} at character ${first.at}: Ollama ${JSON.stringify(first.ollama)}, the model ${JSON.stringify(first.model)}` : "";
  const fix = params.fromRecipe ? "fix publish.ollama.template" : "give publish.ollama.template a Go template that renders them as the model's does";
  const warning = `${params.label}: Ollama renders other prompts than the model's own chat template for ${result.differs.map((d) => d.shape).join(", ")} (of ${result.compared.length} conversations compared)${system ? ", even with its default system message as SYSTEM" : ""}${where} — ${fix}`;
  return { ...(system ? { system } : {}), warning };
}

/**
 * The conversations the model's own template refuses (Gemma 2's "System role not supported") that Ollama renders all
 * the same — a Go template cannot refuse — said in one line with what Ollama makes of the first.
 */
function refusedButRendered(params: { template: string; system: string | undefined; chat: SharedContent["chat"]; label: string }): string | undefined {
  const refusals = Object.entries(params.chat?.refusals ?? {});
  const rendered = refusals.flatMap(([shape, why]) => {
    const messages = chatShapes[shape];
    if (!messages) return [];
    try {
      return [{ shape, why, prompt: renderOllamaPrompt({ template: params.template, ...(params.system ? { system: params.system } : {}), messages }) }];
    } catch {
      return [];
    }
  });
  const first = rendered[0];
  if (!first) return undefined;
  return `${params.label}: the model's own chat template refuses ${rendered.map((r) => r.shape).join(", ")} (${JSON.stringify(first.why)}), which Ollama renders all the same (${first.shape}: ${JSON.stringify(first.prompt.slice(0, 60))}…): a client that sends them gets a prompt the model was not trained on`;
}

function num(value: GgufValue | undefined): number | undefined {
  return typeof value === "number" ? value : undefined;
}
