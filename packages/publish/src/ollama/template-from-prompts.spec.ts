import { describe, expect, it } from "vitest";
import { chatShapes } from "@gguf-pipeline/core";
import { renderOllamaPrompt } from "./render-ollama-prompt.js";
import { templateFromPrompts } from "./template-from-prompts.js";

type Message = { role: string; content: string };
const shapesOf = (render: (m: Message[]) => string) => Object.fromEntries(Object.entries(chatShapes).map(([k, m]) => [k, render(m)]));

describe("templateFromPrompts", () => {
  it("should write SmolVLM's format from its prompts, rendering each of them as the model does", () => {
    const smol = (messages: Message[]) => `<|begin_of_text|>${messages.map((m) => `${m.role[0]?.toUpperCase()}${m.role.slice(1)}: ${m.content}<end_of_utterance>\n`).join("")}Assistant:`;
    const shapes = shapesOf(smol);
    const written = templateFromPrompts({ shapes });
    expect(written?.stop).toEqual(["<end_of_utterance>"]);
    for (const [shape, messages] of Object.entries(chatShapes)) expect(renderOllamaPrompt({ template: written?.template ?? "", messages }), shape).toBe(shapes[shape]);
  });

  it("should write nothing for a format it cannot express (the system message inside the last user turn)", () => {
    const mistral = (messages: Message[]) => {
      const system = messages[0]?.role === "system" ? messages[0].content : undefined;
      const turns = messages.filter((m) => m.role !== "system");
      return turns.map((m, i) => (m.role === "user" ? `[INST]${system && i === turns.length - 1 ? `${system}\n\n` : ""}${m.content}[/INST]` : `${m.content}</s>`)).join("");
    };
    expect(templateFromPrompts({ shapes: shapesOf(mistral) })).toBeUndefined();
  });
});
