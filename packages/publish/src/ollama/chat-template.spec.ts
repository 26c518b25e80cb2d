import { describe, expect, it } from "vitest";
import { convertGGUFTemplateToOllama } from "@huggingface/ollama-utils";
import { ollamaChatTemplate } from "./chat-template.js";

// The tiny fixture's template (examples/tiny/model/chat_template.jinja): no table entry matches it.
const tiny = "{{ bos_token }}{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";
const chatml = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

// DeepSeek-R1-Distill-Qwen's template (llama.cpp's models/templates): the library's entry for it lists no stop strings.
const deepseekR1 = "{% if not add_generation_prompt is defined -%}\n  {%- set add_generation_prompt = false -%}\n{%- endif -%}\n{%- set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') -%}\n{%- for message in messages -%}\n  {%- if message['role'] == 'system' -%}\n    {%- set ns.system_prompt = message['content'] -%}\n  {%- endif -%}\n{%- endfor -%}{{bos_token}}{{ns.system_prompt}}\n{%- for message in messages -%}\n  {%- if message['role'] == 'user' -%}\n    {%- set ns.is_tool = false -%}{{'<\uff5cUser\uff5c>' + message['content']}}\n  {%- endif -%}\n  {%- if message['role'] == 'assistant' and message['tool_calls'] -%}\n    {%- set ns.is_tool = false -%}\n    {%- for tool in message['tool_calls']-%}\n      {%- if not ns.is_first -%}\n        {{'<\uff5cAssistant\uff5c><\uff5ctool\u2581calls\u2581begin\uff5c><\uff5ctool\u2581call\u2581begin\uff5c>' + tool['type'] + '<\uff5ctool\u2581sep\uff5c>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] | tojson + '\\n' + '```' + '<\uff5ctool\u2581call\u2581end\uff5c>'}}\n        {%- set ns.is_first = true -%}\n      {%- else -%}\n        {{'\\n' + '<\uff5ctool\u2581call\u2581begin\uff5c>' + tool['type'] + '<\uff5ctool\u2581sep\uff5c>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] | tojson + '\\n' + '```' + '<\uff5ctool\u2581call\u2581end\uff5c>'}}\n      {%- endif -%}\n    {%- endfor -%}\n    {{'<\uff5ctool\u2581calls\u2581end\uff5c><\uff5cend\u2581of\u2581sentence\uff5c>'}}\n  {%- endif -%}\n  {%- if message['role'] == 'assistant' and message['content'] is not none -%}\n    {%- if ns.is_tool -%}{{'<\uff5ctool\u2581outputs\u2581end\uff5c>' + message['content'] + '<\uff5cend\u2581of\u2581sentence\uff5c>'}}\n      {%- set ns.is_tool = false -%}\n    {%- else -%}\n      {%- set content = message['content'] -%}\n      {%- if '</think>' in content -%}\n        {%- set content = content.split('</think>')[-1] -%}\n      {%- endif -%}{{'<\uff5cAssistant\uff5c>' + content + '<\uff5cend\u2581of\u2581sentence\uff5c>'}}\n    {%- endif -%}\n  {%- endif -%}\n  {%- if message['role'] == 'tool' -%}\n    {%- set ns.is_tool = true -%}\n    {%- if ns.is_output_first -%}{{'<\uff5ctool\u2581outputs\u2581begin\uff5c><\uff5ctool\u2581output\u2581begin\uff5c>' + message['content'] + '<\uff5ctool\u2581output\u2581end\uff5c>'}}\n      {%- set ns.is_output_first = false -%}\n      {%- else -%}{{'\\n<\uff5ctool\u2581output\u2581begin\uff5c>' + message['content'] + '<\uff5ctool\u2581output\u2581end\uff5c>'}}\n    {%- endif -%}\n  {%- endif -%}\n{%- endfor -%}\n{%- if ns.is_tool -%}{{'<\uff5ctool\u2581outputs\u2581end\uff5c>'}}\n{%- endif -%}\n{%- if add_generation_prompt and not ns.is_tool -%}{{'<\uff5cAssistant\uff5c><think>\\n'}}{% if not enable_thinking %}{{- '</think>' -}}{% endif %}\n{%- endif %}";

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

  it("should stop on the tokens between turns, never on one the model writes in its reply (<think>, tool calls)", () => {
    const out = ollamaChatTemplate({ chatTemplate: deepseekR1, bosToken: "<｜begin▁of▁sentence｜>", eosToken: "<｜end▁of▁sentence｜>", addBos: true });
    expect(out?.how).toBe("known");
    expect(out?.stop.sort()).toEqual(["<｜Assistant｜>", "<｜User｜>", "<｜end▁of▁sentence｜>"].sort());
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
