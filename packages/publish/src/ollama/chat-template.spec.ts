import { describe, expect, it } from "vitest";
import { convertGGUFTemplateToOllama } from "@huggingface/ollama-utils";
import { ollamaChatTemplate } from "./chat-template.js";

// The tiny fixture's template (examples/tiny/model/chat_template.jinja): no table entry matches it.
const tiny = "{{ bos_token }}{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";
const chatml = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

describe("ollamaChatTemplate", () => {
  it("should convert a template no table knows, leaving BOS to the tokenizer that adds it", () => {
    const out = ollamaChatTemplate({ chatTemplate: tiny, bosToken: "<s>", eosToken: "</s>", addBos: true });
    expect(out).toEqual({
      template: "{{ if .System }}<|system|>\n{{ .System }}</s>\n{{ end }}{{ if .Prompt }}<|user|>\n{{ .Prompt }}</s>\n{{ end }}<|assistant|>\n{{ .Response }}</s>\n",
      stop: ["<s>", "<|system|>", "<|user|>", "<|assistant|>"],
      parameters: {},
      how: "converted",
    });
  });

  it("should write BOS first, always, for a tokenizer that adds none", () => {
    expect(ollamaChatTemplate({ chatTemplate: tiny, bosToken: "<s>", eosToken: "</s>", addBos: false })?.template).toMatch(/^<s>\{\{ if \.System \}\}<\|system\|>\n/);
  });

  it("should take Ollama's library template for a known format, with its stop list", () => {
    const out = ollamaChatTemplate({ chatTemplate: chatml, addBos: false });
    expect(out?.how).toBe("known");
    expect(out?.template).toContain("<|im_start|>");
    expect(out?.stop).toContain("<|im_end|>");
  });

  it("should say where a template taken for a library one departs from it, and say nothing of the library's own", () => {
    // The library's own Jinja for the format ChatML is matched to (by its special tokens).
    const library = convertGGUFTemplateToOllama({ chat_template: chatml })?.gguf ?? "";
    expect(ollamaChatTemplate({ chatTemplate: library, addBos: false })?.differs).toBeUndefined();
    // A fine-tune's change after the first 128 characters: the matcher looks no further, so it must be said.
    const changed = `${library.slice(0, 200)}{# changed #}${library.slice(200)}`;
    const out = ollamaChatTemplate({ chatTemplate: changed, addBos: false });
    expect(out?.how).toBe("known");
    expect(out?.differs?.at).toBe(200);
    expect(out?.differs?.ours).toContain("{# changed #}");
    // Plain ChatML is taken for another template that shares its tokens: said too.
    expect(ollamaChatTemplate({ chatTemplate: chatml, addBos: false })?.differs?.at).toBeGreaterThan(0);
  });

  it("should give up rather than guess: a template that does not render, or one that never places the message", () => {
    expect(ollamaChatTemplate({ chatTemplate: "{% for m in messages %}{{ m.content | frobnicate }}{% endfor %}", addBos: true })).toBeUndefined();
    expect(ollamaChatTemplate({ chatTemplate: "{{ raise_exception('no') }}", addBos: true })).toBeUndefined();
    expect(ollamaChatTemplate({ chatTemplate: "{% if messages %}fixed text{% endif %}", addBos: true })).toBeUndefined();
  });
});
