import { describe, expect, it } from "vitest";
import { chatShapes } from "@gguf-pipeline/core";
import { renderOllamaPrompt } from "./render-ollama-prompt.js";
import { repairTemplate } from "./repair-template.js";

type Message = { role: string; content: string };
const shapesOf = (render: (m: Message[]) => string) => Object.fromEntries(Object.entries(chatShapes).map(([k, m]) => [k, render(m)]));

describe("repairTemplate", () => {
  // A ChatML model's own prompts; a library template that adds a blank line after the system message and a <think> prefill.
  const chatml = (messages: Message[]) => `${messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join("")}<|im_start|>assistant\n`;
  const library = [
    "{{- if or .System .Tools }}<|im_start|>system\n{{ if .System }}{{ .System }}\n\n{{ end }}{{ if .Tools }}# Tools\n\nUse them.{{ end }}<|im_end|>\n{{ end }}",
    "{{- range $i, $_ := .Messages }}{{- $last := eq (len (slice $.Messages $i)) 1 -}}",
    "{{- if eq .Role \"user\" }}<|im_start|>user\n{{ .Content }}<|im_end|>\n{{ else if eq .Role \"assistant\" }}<|im_start|>assistant\n{{ .Content }}{{ if not $last }}<|im_end|>\n{{ end }}{{ end }}",
    "{{- if and (ne .Role \"assistant\") $last }}<|im_start|>assistant\n<think>\n{{ end }}{{- end }}",
  ].join("");

  it("should take out the text the template writes that the model's does not, and keep the rest (tools)", () => {
    const shapes = shapesOf(chatml);
    const repaired = repairTemplate({ template: library, shapes });
    expect(repaired?.changes).toEqual(['without its "<think>\\n"', 'without its "\\n\\n"']);
    for (const [shape, messages] of Object.entries(chatShapes)) expect(renderOllamaPrompt({ template: repaired?.template ?? "", messages }), shape).toBe(shapes[shape]);
    expect(repaired?.template).toContain("# Tools\n\nUse them.");
  });

  it("should move the system message into the last user turn where the model's template writes it there", () => {
    const mistral = (messages: Message[]) => {
      const system = messages[0]?.role === "system" ? messages[0].content : undefined;
      const turns = messages.filter((m) => m.role !== "system");
      return turns.map((m, i) => (m.role === "user" ? `[INST]${system && i === turns.length - 1 ? `${system}\n\n` : ""}${m.content}[/INST]` : `${m.content}</s>`)).join("");
    };
    const template = '{{- range $index, $_ := .Messages }}{{- if eq .Role "system" }}[SYSTEM_PROMPT]{{ .Content }}[/SYSTEM_PROMPT]{{- else if eq .Role "user" }}[INST]{{ .Content }}[/INST]{{- else if eq .Role "assistant" }}{{ .Content }}</s>{{- end }}{{- end }}';
    const shapes = shapesOf(mistral);
    const repaired = repairTemplate({ template, shapes });
    expect(repaired?.changes).toEqual(["with the system message in the last user turn, as the model's template writes it"]);
    for (const [shape, messages] of Object.entries(chatShapes)) expect(renderOllamaPrompt({ template: repaired?.template ?? "", messages }), shape).toBe(shapes[shape]);
  });

  it("should give nothing when no edit makes more prompts the model's", () => {
    expect(repairTemplate({ template: "{{ range .Messages }}<{{ .Role }}>{{ .Content }}{{ end }}", shapes: shapesOf(() => "something else entirely") })).toBeUndefined();
  });
});
