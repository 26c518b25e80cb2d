import { describe, expect, it } from "vitest";
import { chatShapes } from "@gguf-pipeline/core";
import { closestTemplate } from "./closest-template.js";

type Message = { role: string; content: string };
// A model's own template, rendered as transformers would: a dated system block always, then the turns.
const dated = (messages: Message[]) => {
  const system = messages[0]?.role === "system" ? messages[0].content : "";
  const turns = messages.filter((m) => m.role !== "system").map((m) => `<${m.role}>${m.content}</>`);
  return `<system>Date: today\n${system}</>${turns.join("")}<assistant>`;
};
const shapesOf = (render: (m: Message[]) => string) => Object.fromEntries(Object.entries(chatShapes).map(([k, m]) => [k, render(m)]));
const legacy = "{{ if .System }}<system>Date: today\n{{ .System }}</>{{ end }}{{ if .Prompt }}<user>{{ .Prompt }}</>{{ end }}<assistant>{{ .Response }}</>";

describe("closestTemplate", () => {
  it("should take a legacy template over .Messages with its system block always, when that renders the model's prompts", () => {
    const chosen = closestTemplate({ candidates: [{ template: legacy, stop: [], parameters: {}, from: "converted" }], chat: { shapes: shapesOf(dated) } });
    expect(chosen.from).toBe("converted, over .Messages, its system block written always as the model's template does");
    expect(chosen.template).toMatch(/^<system>Date: today\n\{\{ \.System \}\}<\/>\{\{ range \$i, \$_ := \.Messages \}\}/);
  });

  it("should add the text the model's prompts all end with (a <think> prefill), only after a last user turn", () => {
    const plain = (messages: Message[]) => `${messages.map((m) => `<${m.role}>${m.content}</>`).join("")}<assistant>`;
    const template = '{{ range .Messages }}<{{ .Role }}>{{ .Content }}</>{{ end }}<assistant>';
    const chosen = closestTemplate({ candidates: [{ template, stop: [], parameters: {}, from: "library" }], chat: { shapes: shapesOf((m) => `${plain(m)}<think>\n`) } });
    expect(chosen.from).toBe('library, with the model\'s "<think>\\n" after the last user turn');
    const withDrop = closestTemplate({ candidates: [{ template: `${template.replace("<assistant>", "<assistant><think>\n")}`, stop: [], parameters: {}, from: "library" }], chat: { shapes: shapesOf(plain) } });
    expect(withDrop.from).toBe('library, without its "<think>\\n" after the last user turn');
  });

  it("should keep the first candidate on a tie, and whichever renders more of the prompts otherwise", () => {
    const a = { template: "{{ range .Messages }}{{ .Content }}{{ end }}", stop: ["a"], parameters: {}, from: "library" };
    const b = { ...a, stop: ["b"], from: "own" };
    expect(closestTemplate({ candidates: [a, b], chat: { shapes: { "[user]": "nothing alike" } } }).from).toBe("library");
    const exact = { ...a, template: "{{ range .Messages }}[{{ .Content }}]{{ end }}", from: "own" };
    expect(closestTemplate({ candidates: [a, exact], chat: { shapes: { "[user]": "[What is 2 + 2?]" } } }).from).toBe("own");
  });
});
