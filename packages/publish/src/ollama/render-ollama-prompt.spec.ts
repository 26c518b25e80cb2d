import { describe, expect, it } from "vitest";
import { renderOllamaPrompt } from "./render-ollama-prompt.js";

const chatml = `{{- if .Messages }}
{{- if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 -}}
{{- if eq .Role "user" }}<|im_start|>user
{{ .Content }}<|im_end|>
{{ else if eq .Role "assistant" }}<|im_start|>assistant
{{ .Content }}{{ if not $last }}<|im_end|>
{{ end }}
{{- end }}
{{- if and (ne .Role "assistant") $last }}<|im_start|>assistant
{{ end }}
{{- end }}
{{- end }}`;
const legacy = "{{ if .System }}<|system|>\n{{ .System }}<|end|>\n{{ end }}{{ if .Prompt }}<|user|>\n{{ .Prompt }}<|end|>\n{{ end }}<|assistant|>\n{{ .Response }}<|end|>\n";

describe("renderOllamaPrompt", () => {
  it("should render a .Messages template once, the Modelfile's SYSTEM first when the chat has none", () => {
    expect(renderOllamaPrompt({ template: chatml, messages: [{ role: "user", content: "Hi" }] })).toBe("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    expect(renderOllamaPrompt({ template: chatml, system: "Be brief.", messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello!" }, { role: "user", content: "Bye" }] })).toBe(
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n",
    );
    // A chat's own system message wins over the Modelfile's.
    expect(renderOllamaPrompt({ template: chatml, system: "Default.", messages: [{ role: "system", content: "Mine." }, { role: "user", content: "Hi" }] })).toContain("system\nMine.<|im_end|>");
  });

  it("should render a legacy template turn by turn, the last cut after .Response", () => {
    const out = renderOllamaPrompt({ template: legacy, messages: [{ role: "system", content: "S" }, { role: "user", content: "A" }, { role: "assistant", content: "B" }, { role: "user", content: "C" }] });
    expect(out).toBe("<|system|>\nS<|end|>\n<|user|>\nA<|end|>\n<|assistant|>\nB<|end|>\n<|user|>\nC<|end|>\n<|assistant|>\n");
  });
});
