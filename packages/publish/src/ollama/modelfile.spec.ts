import { describe, expect, it } from "vitest";
import { formatModelfile, ModelfileValueError, modelfileValue } from "./modelfile.js";

/**
 * Ollama v0.24.0's Modelfile parser (parser/parser.go ParseFile), ported rune for rune for the commands we write
 * (MESSAGE left out): the reference that formatModelfile's quoting must read back through.
 */
function parseModelfile(text: string): { name: string; args: string }[] {
  type State = "nil" | "name" | "value" | "parameter" | "comment";
  const isSpace = (r: string) => r === " " || r === "\t";
  const isNewline = (r: string) => r === "\n" || r === "\r";
  const isPrint = (r: string) => r === " " || !/[\p{C}\p{Z}]/u.test(r);
  const unquote = (s: string): string | undefined => {
    if (s.startsWith('"""')) return s.length >= 6 && s.endsWith('"""') ? s.slice(3, -3) : undefined;
    if (s.startsWith('"')) return s.length >= 2 && s.endsWith('"') ? s.slice(1, -1) : undefined;
    return s;
  };
  const trim = (s: string) => s.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, "");
  const step = (r: string, cs: State): [State, string] => {
    switch (cs) {
      case "nil":
        return r === "#" ? ["comment", ""] : isSpace(r) || isNewline(r) ? ["nil", ""] : ["name", r];
      case "name":
        if (/[A-Za-z]/.test(r)) return ["name", r];
        if (isSpace(r)) return ["value", ""];
        throw new Error("invalid command");
      case "value":
        return isNewline(r) || isSpace(r) ? ["nil", r] : ["value", r];
      case "parameter":
        if (/[A-Za-z0-9_]/.test(r)) return ["parameter", r];
        if (isSpace(r)) return ["value", ""];
        throw new Error("unexpected EOF");
      case "comment":
        return isNewline(r) ? ["nil", ""] : ["comment", ""];
    }
  };
  const out: { name: string; args: string }[] = [];
  let curr: State = "nil";
  let b = "";
  let name = "";
  for (const rune of text) {
    const [stepped, r] = step(rune, curr);
    let next = stepped;
    if (next !== curr) {
      if (curr === "name") {
        const s = b.toLowerCase();
        if (s === "parameter") next = "parameter";
        else name = s === "from" ? "model" : s;
      } else if (curr === "parameter") name = b;
      else if (curr === "value") {
        const s = unquote(trim(b));
        if (s === undefined || isSpace(r)) {
          b += r;
          continue;
        }
        out.push({ name, args: s });
      }
      b = "";
      curr = next;
    }
    if (r && isPrint(r)) b += r;
  }
  if (curr === "value") {
    const s = unquote(trim(b));
    if (s === undefined) throw new Error("unexpected EOF");
    out.push({ name, args: s });
  }
  return out;
}

describe("formatModelfile", () => {
  it("should write FROM, ADAPTER, TEMPLATE, SYSTEM, one PARAMETER per value and one LICENSE per text", () => {
    const text = formatModelfile({
      from: "./Tiny-Q8_0.gguf",
      adapter: "./Tiny-a-LoRA-F32.gguf",
      template: "{{ if .System }}<|system|>\n{{ .System }}</s>\n{{ end }}<|user|>\n{{ .Prompt }}</s>\n<|assistant|>\n",
      system: "You are tiny.",
      parameters: { num_ctx: 2048, temperature: 0.5, use_mmap: false, stop: ["<|user|>", "</s>"] },
      licenses: ["MIT License\n\nCopyright (c) someone", "NOTICE"],
    });
    expect(text.split("\n").filter((l) => /^(FROM|ADAPTER|TEMPLATE|SYSTEM|PARAMETER|LICENSE) /.test(l))).toEqual([
      "FROM ./Tiny-Q8_0.gguf",
      "ADAPTER ./Tiny-a-LoRA-F32.gguf",
      'TEMPLATE """{{ if .System }}<|system|>',
      'SYSTEM """You are tiny."""',
      "PARAMETER num_ctx 2048",
      "PARAMETER temperature 0.5",
      "PARAMETER use_mmap false",
      "PARAMETER stop <|user|>",
      "PARAMETER stop </s>",
      'LICENSE """MIT License',
      'LICENSE """NOTICE"""',
    ]);
    expect(parseModelfile(text)).toEqual([
      { name: "model", args: "./Tiny-Q8_0.gguf" },
      { name: "adapter", args: "./Tiny-a-LoRA-F32.gguf" },
      { name: "template", args: "{{ if .System }}<|system|>\n{{ .System }}</s>\n{{ end }}<|user|>\n{{ .Prompt }}</s>\n<|assistant|>\n" },
      { name: "system", args: "You are tiny." },
      { name: "num_ctx", args: "2048" },
      { name: "temperature", args: "0.5" },
      { name: "use_mmap", args: "false" },
      { name: "stop", args: "<|user|>" },
      { name: "stop", args: "</s>" },
      { name: "license", args: "MIT License\n\nCopyright (c) someone" },
      { name: "license", args: "NOTICE" },
    ]);
  });

  it("should choose for every value a quoting that Ollama's parser reads back unchanged", () => {
    const hard = ['"', '""', "a b", " lead", "trail ", 'say "hi"', 'line ends in a quote"\nnext', 'ends in "\n', 'tri"""ple', "tab\there", "crlf\r\nline", "{{- range .Messages }}\n{{ .Content }}\n{{- end }}", "", "###"];
    for (const value of hard) {
      for (const command of ["TEMPLATE", "PARAMETER stop"]) {
        const written = modelfileValue(command, value, command === "TEMPLATE" ? "block" : "bare");
        const [parsed] = parseModelfile(`${command} ${written}\n`);
        expect(parsed?.args, `${command} ${JSON.stringify(value)} written as ${JSON.stringify(written)}`).toBe(value);
      }
    }
  });

  it("should refuse a value no quoting carries, and characters the parser drops", () => {
    expect(() => modelfileValue("TEMPLATE", 'x"""\ny', "block")).toThrow(ModelfileValueError);
    expect(() => modelfileValue("TEMPLATE", '"""\nx', "block")).toThrow(/a quote right before a line break/);
    expect(() => modelfileValue("SYSTEM", "zero\u200bwidth", "block")).toThrow(/U\+200B, which Ollama's Modelfile parser drops/);
    expect(() => modelfileValue("SYSTEM", "no\u00a0break", "block")).toThrow(/U\+00A0/);
    expect(modelfileValue("SYSTEM", "émoji 🙂 ｜fullwidth｜ ▁", "block")).toBe('"""émoji 🙂 ｜fullwidth｜ ▁"""');
  });
});
