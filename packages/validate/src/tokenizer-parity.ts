import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { chatShapes, hashFile, IllegalInstructionError, runToolToEnd, sha256, ToolError } from "@gguf-pipeline/core";

/**
 * What every text-generation model's tokenizer is held to: several languages (Japanese included), code, digits,
 * whitespace runs, non-ASCII letters and emoji — and the model's own chat template rendered for a short conversation,
 * special tokens and all. A fine-tune is trained on exactly what its tokenizer makes of these.
 */
export const parityTexts: Record<string, string> = {
  english: "Hello! How are you today? I'm fine, thanks — and you?",
  japanese: "日本語のテキストも正しく分割されるでしょうか。東京は今日晴れです。",
  code: "def add(a, b):\n    return a + b\n\nprint(add(2, 3))  # 5\n",
  digits: "Digits: 0 1 12 123 1234 12345 3.14159 2026-12-06 1,000,000",
  whitespace: "  two leading spaces, three trailing   \n\n\ttab\tand\n\n\n   newlines  ",
  unicode: "Émojis 🙂🚀 and accents: naïve café, Zürich, ﬁ ligature, Ελληνικά, русский.",
};

/** A short conversation, with the generation prompt: the chat template's own rendering is compared too. */
const conversation = [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "What is 2 + 2?" },
  { role: "assistant", content: "2 + 2 = 4." },
  { role: "user", content: "And 3 + 3?" },
];

export interface SourceTokens {
  /** The source tokenizer's ids of each text, by name (without the specials a tokenizer adds around a text). */
  tokens: Record<string, number[]>;
  /** The texts compared, the rendered chat template among them ("chat"), by name. */
  texts: Record<string, string>;
  /** Why the chat template could not be rendered by transformers (it is then left out; the smoke test runs it). */
  chatError?: string;
  /** The source's chat template rendered for each of `chatShapes` (null where it refuses one), without a leading BOS. */
  chat?: SourceChat;
}

export interface SourceChat {
  shapes: Record<string, string | null>;
  /** The system turn the template writes when a chat has none (Qwen's "You are Qwen…"), if it writes one. */
  defaultSystem?: string;
  /** Why the template refuses a shape (its raise_exception message: Gemma 2's "System role not supported"). */
  refusals?: Record<string, string>;
}

// The source's own tokenizer, through transformers, in the converters' venv: its tokenizer.json when it ships one
// (what save_pretrained writes from the fast tokenizer a fine-tune used); otherwise its SentencePiece model itself, the
// slow tokenizer, since transformers' fast conversion of a bare tokenizer.model splits leading spaces its own way. A
// template that refuses a system turn (Gemma's) renders the conversation without it; one that takes only typed message
// parts gets them.
const script = `
import json, os, sys
from transformers import AutoTokenizer
ask = json.load(open(sys.argv[1], encoding="utf-8"))
tok = AutoTokenizer.from_pretrained(ask["dir"], use_fast=os.path.exists(os.path.join(ask["dir"], "tokenizer.json")))
texts = dict(ask["texts"])
chat_error = None
def apply(messages):
    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    # A vision model's template takes typed parts (content[0].type: SmolVLM's) and drops plain strings: give it parts,
    # as its processor (and llama.cpp's chat code) does.
    if any(m["content"] not in text for m in messages):
        try:
            typed = tok.apply_chat_template([{"role": m["role"], "content": [{"type": "text", "text": m["content"]}]} for m in messages], tokenize=False, add_generation_prompt=True)
            if all(m["content"] in typed for m in messages):
                return typed
        except Exception:
            pass
    return text
if getattr(tok, "chat_template", None):
    for conversation in (ask["conversation"], ask["conversation"][1:]):
        try:
            texts["chat"] = apply(conversation)
            break
        except Exception as error:
            chat_error = str(error).splitlines()[0] if str(error) else type(error).__name__
out = {"texts": texts, "tokens": {k: tok(v, add_special_tokens=False)["input_ids"] for k, v in texts.items()}}
if "chat" not in texts and chat_error:
    out["chatError"] = chat_error
if "chat" in texts:
    refusals = {}
    def render(messages, name=None):
        try:
            text = apply(messages)
        except Exception as error:
            if name:
                refusals[name] = (str(error).splitlines() or [type(error).__name__])[0][:200]
            return None
        # Ollama's runner adds the BOS itself: the prompts are compared without it.
        bos = tok.bos_token or ""
        return text[len(bos):] if bos and text.startswith(bos) else text
    shapes = {name: render(messages, name) for name, messages in ask["shapes"].items()}
    marker = "\u00a7SYSTEM\u00a7"
    user = ask["shapes"]["[user]"]
    with_marker = render([{"role": "system", "content": marker}] + user)
    default = None
    plain = shapes["[user]"]
    # A template that writes a system turn of its own when the chat has none: that turn's text is its default system.
    if with_marker and plain and marker in with_marker and plain != with_marker.replace(marker, ""):
        before, after = with_marker.split(marker, 1)
        if plain.startswith(before) and plain.endswith(after) and len(plain) >= len(before) + len(after):
            default = plain[len(before): len(plain) - len(after)]
    out["chat"] = {"shapes": shapes, **({"defaultSystem": default} if default else {}), **({"refusals": refusals} if refusals else {})}
print("@@" + json.dumps(out))
`;

export interface SourceTokensParams {
  python: string;
  sourceDir: string;
  /** The source folder's files: all but the weights go into the memo's key. */
  files: string[];
  /** A folder of its own for the question's file (removed after). */
  workDir: string;
  /** Where answers are remembered, by the tokenizer files' content, the texts and the interpreter (the cache). */
  memoDir?: string;
  signal?: AbortSignal;
}

/** The source model's tokenizer's ids for the parity texts: one Python run per tokenizer, remembered in the cache. */
export async function sourceTokens(params: SourceTokensParams): Promise<SourceTokens> {
  const tokenizerFiles = params.files.filter((f) => !/\.(safetensors|bin|pt|pth|gguf)$/.test(f)).sort();
  const hashes = await Promise.all(tokenizerFiles.map(async (f) => `${f}:${(await hashFile({ file: join(params.sourceDir, f) })).sha256}`));
  // A template that writes today's date (Llama 3.x: strftime_now) renders otherwise tomorrow: remembered for a day.
  const templates = await Promise.all(tokenizerFiles.filter((f) => /^(chat_template\.jinja|tokenizer_config\.json)$/.test(f)).map((f) => readFile(join(params.sourceDir, f), "utf8").catch(() => "")));
  const day = templates.some((t) => t.includes("strftime_now")) ? new Date().toISOString().slice(0, 10) : undefined;
  const key = sha256(JSON.stringify({ hashes, script, parityTexts, conversation, chatShapes, python: params.python, ...(day ? { day } : {}) }));
  const memo = params.memoDir ? join(params.memoDir, `${key.slice(0, 32)}.json`) : undefined;
  const known = memo ? await readFile(memo, "utf8").then((t) => JSON.parse(t) as SourceTokens, () => undefined) : undefined;
  if (known) return known;
  const asked = await askTransformers(params);
  if (memo && params.memoDir && Object.keys(asked.tokens).length > 0) {
    await mkdir(params.memoDir, { recursive: true });
    await writeFile(`${memo}.${process.pid}.tmp`, JSON.stringify(asked));
    await rename(`${memo}.${process.pid}.tmp`, memo);
  }
  return asked;
}

async function askTransformers(params: SourceTokensParams): Promise<SourceTokens> {
  await mkdir(params.workDir, { recursive: true });
  const ask = join(params.workDir, "ask.json");
  try {
    await writeFile(ask, JSON.stringify({ dir: params.sourceDir, texts: parityTexts, conversation, shapes: chatShapes }));
    const out = await runToolToEnd({ tool: "transformers tokenizer", command: params.python, args: ["-c", script, ask], file: params.sourceDir, env: { TOKENIZERS_PARALLELISM: "false" }, ...(params.signal ? { signal: params.signal } : {}) });
    const line = out.lines.find((l) => l.startsWith("@@"));
    return JSON.parse(line?.slice(2) ?? '{"texts":{},"tokens":{}}') as SourceTokens;
  } finally {
    await rm(params.workDir, { recursive: true, force: true });
  }
}

export interface TokenizerParityOutput {
  name: "tokenizer parity";
  ok: boolean;
  fact: string;
}

/**
 * Whether llama.cpp tokenizes a GGUF as the source's tokenizer does, text by text (llama-tokenize with special tokens
 * parsed, no BOS of its own: the rendered chat template carries the BOS it wants). A mismatch names the text, the first
 * token that differs and both sides' ids from there.
 */
export async function tokenizerParity(params: { file: string; tokenizeTool: string; expected: SourceTokens; workDir: string; signal?: AbortSignal }): Promise<TokenizerParityOutput> {
  await mkdir(params.workDir, { recursive: true });
  try {
    for (const [name, text] of Object.entries(params.expected.texts)) {
      const textFile = join(params.workDir, `${name}.txt`);
      await writeFile(textFile, text);
      const out = await runToolToEnd({ tool: "llama-tokenize", command: params.tokenizeTool, args: ["-m", params.file, "-f", textFile, "--ids", "--no-bos", "--log-disable"], file: params.file, ...(params.signal ? { signal: params.signal } : {}) });
      const ids = JSON.parse(/\[[\d,\s]*\]/.exec(out.stdout)?.[0] ?? "[]") as number[];
      const want = params.expected.tokens[name] ?? [];
      const at = firstDifference(ids, want);
      if (at !== undefined) {
        const side = (list: number[]) => `[${list.slice(at, at + 6).join(", ")}${list.length > at + 6 ? ", …" : ""}]`;
        return { name: "tokenizer parity", ok: false, fact: `the ${name} text tokenizes differently from the source's tokenizer at token ${at} of ${want.length}: llama.cpp ${side(ids)}, transformers ${side(want)}` };
      }
    }
    const unrendered = params.expected.chatError ? ` (the chat template does not render in transformers: ${params.expected.chatError.slice(0, 120)})` : "";
    return { name: "tokenizer parity", ok: true, fact: `${Object.keys(params.expected.texts).length} texts (${Object.keys(params.expected.texts).join(", ")}) tokenize as the source's tokenizer does${unrendered}` };
  } catch (error) {
    if (!(error instanceof ToolError) || error instanceof IllegalInstructionError) throw error;
    return { name: "tokenizer parity", ok: false, fact: `llama-tokenize failed: ${error.message}` };
  } finally {
    await rm(params.workDir, { recursive: true, force: true });
  }
}

function firstDifference(a: number[], b: number[]): number | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return undefined;
}
