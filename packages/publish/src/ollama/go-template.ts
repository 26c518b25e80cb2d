/**
 * The part of Go's text/template that Ollama's chat templates use, to render a Modelfile's TEMPLATE as Ollama does
 * before anything is created: text and actions with trim markers, if / else if / else, range (with its variables) and
 * with, variables (`:=`, `=`, `$`), fields (`.Messages`, `$.System`, `$m.Role`), parentheses, pipes, and the
 * functions those templates call (eq, ne, lt, le, gt, ge, and, or, not, len, index, slice, print, json, currentDate).
 * The renderer is checked against the real `ollama serve` (its logged prompts) in the end-to-end tests.
 */
export type GoNode =
  | { kind: "text"; text: string }
  | { kind: "action"; pipe: GoPipe }
  | { kind: "if" | "with"; pipe: GoPipe; list: GoNode[]; elseList?: GoNode[] }
  | { kind: "range"; pipe: GoPipe; list: GoNode[]; elseList?: GoNode[] };

export interface GoPipe {
  /** `$i, $v :=` (declare) or `$x =` (assign). */
  vars: string[];
  assign: boolean;
  cmds: GoArg[][];
}

type GoArg = { kind: "field"; base: string | undefined; path: string[] } | { kind: "ident"; name: string } | { kind: "literal"; value: unknown } | { kind: "sub"; pipe: GoPipe; path: string[] };

export class GoTemplateError extends Error {}

/** Parses a Go text/template. */
export function parseGoTemplate(source: string): GoNode[] {
  const pieces = lexTemplate(source);
  let at = 0;
  const parseList = (stops: string[]): { list: GoNode[]; stop: string } => {
    const list: GoNode[] = [];
    while (at < pieces.length) {
      const piece = pieces[at++];
      if (piece === undefined) break;
      if (piece.kind === "text") {
        if (piece.text) list.push({ kind: "text", text: piece.text });
        continue;
      }
      const body = piece.body;
      const word = /^(if|range|with|else|end)\b/.exec(body)?.[1];
      if (word === "end" || word === "else") {
        if (!stops.includes(word)) throw new GoTemplateError(`unexpected {{${word}}}`);
        at--;
        return { list, stop: word };
      }
      if (word === "if" || word === "range" || word === "with") list.push(parseControl(word, body.slice(word.length)));
      else if (!body.startsWith("/*")) list.push({ kind: "action", pipe: parsePipe(body) });
    }
    if (stops.length > 0) throw new GoTemplateError("missing {{end}}");
    return { list, stop: "" };
  };
  const parseControl = (kind: "if" | "range" | "with", rest: string): GoNode => {
    const pipe = parsePipe(rest);
    const { list, stop } = parseList(["else", "end"]);
    const closing = pieces[at++];
    let elseList: GoNode[] | undefined;
    if (stop === "else" && closing?.kind === "action") {
      const after = closing.body.slice(4).trim();
      // `else if …` is an if inside the else branch, closed by the same {{end}}.
      if (/^(if|with)\b/.test(after)) {
        const inner = /^(if|with)/.exec(after)?.[1] as "if" | "with";
        elseList = [parseControl(inner, after.slice(inner.length))];
        return { kind, pipe, list, elseList };
      }
      elseList = parseList(["end"]).list;
      at++;
    }
    return { kind, pipe, list, ...(elseList ? { elseList } : {}) };
  };
  return parseList([]).list;
}

/** Text and actions, the trim markers applied to the text beside them. */
function lexTemplate(source: string): ({ kind: "text"; text: string } | { kind: "action"; body: string })[] {
  const out: ({ kind: "text"; text: string } | { kind: "action"; body: string })[] = [];
  let i = 0;
  let trimNext = false;
  while (i < source.length) {
    const open = source.indexOf("{{", i);
    let text = source.slice(i, open < 0 ? source.length : open);
    if (trimNext) text = text.replace(/^\s+/, "");
    if (open < 0) {
      out.push({ kind: "text", text });
      break;
    }
    const trimBefore = source.startsWith("{{- ", open) || source.startsWith("{{-\n", open) || source.startsWith("{{-\t", open);
    if (trimBefore) text = text.replace(/\s+$/, "");
    out.push({ kind: "text", text });
    const close = findClose(source, open + 2);
    if (close < 0) throw new GoTemplateError("unclosed action");
    let body = source.slice(open + 2, close);
    trimNext = /\s-$/.test(body);
    if (trimBefore) body = body.slice(1);
    if (trimNext) body = body.slice(0, -1);
    out.push({ kind: "action", body: body.trim() });
    i = close + 2;
  }
  return out;
}

/** The `}}` that ends an action, skipping quoted strings. */
function findClose(source: string, from: number): number {
  for (let i = from; i < source.length; i++) {
    const c = source[i];
    if (c === '"' || c === "`") {
      const end = c === "`" ? source.indexOf("`", i + 1) : closingQuote(source, i);
      if (end < 0) return -1;
      i = end;
    } else if (source.startsWith("}}", i)) return i;
  }
  return -1;
}

function closingQuote(source: string, start: number): number {
  for (let i = start + 1; i < source.length; i++) {
    if (source[i] === "\\") i++;
    else if (source[i] === '"') return i;
  }
  return -1;
}

/** A pipeline: optional variables, then commands separated by `|`. */
function parsePipe(text: string): GoPipe {
  const tokens = tokenize(text);
  let vars: string[] = [];
  let assign = false;
  const decl = tokens.findIndex((t) => t === ":=" || t === "=");
  if (decl >= 0 && tokens.slice(0, decl).every((t) => t === "," || t.startsWith("$"))) {
    vars = tokens.slice(0, decl).filter((t) => t !== ",");
    assign = tokens[decl] === "=";
    tokens.splice(0, decl + 1);
  }
  let at = 0;
  const parseArgs = (end: string | undefined): GoArg[][] => {
    const cmds: GoArg[][] = [[]];
    while (at < tokens.length) {
      const t = tokens[at++] ?? "";
      if (t === end) return cmds;
      if (t === "|") cmds.push([]);
      else if (t === "(") {
        const pipe: GoPipe = { vars: [], assign: false, cmds: parseArgs(")") };
        const path: string[] = [];
        while (tokens[at]?.startsWith(".") && tokens[at] !== ".") path.push(...(tokens[at++] ?? "").slice(1).split("."));
        cmds.at(-1)?.push({ kind: "sub", pipe, path });
      } else cmds.at(-1)?.push(operand(t));
    }
    if (end) throw new GoTemplateError(`missing ${end}`);
    return cmds;
  };
  return { vars, assign, cmds: parseArgs(undefined) };
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const re = /\s*("(?:\\.|[^"\\])*"|`[^`]*`|:=|\(|\)|\||,|=|[^\s()|,=]+)/y;
  for (let m = re.exec(text); m; m = re.exec(text)) tokens.push(m[1] ?? "");
  return tokens;
}

function operand(t: string): GoArg {
  if (t.startsWith('"')) return { kind: "literal", value: JSON.parse(t) as string };
  if (t.startsWith("`")) return { kind: "literal", value: t.slice(1, -1) };
  if (/^-?\d+(\.\d+)?$/.test(t)) return { kind: "literal", value: Number(t) };
  if (t === "true" || t === "false") return { kind: "literal", value: t === "true" };
  if (t === "nil") return { kind: "literal", value: null };
  if (t.startsWith(".")) return { kind: "field", base: undefined, path: t === "." ? [] : t.slice(1).split(".") };
  if (t.startsWith("$")) {
    const [base = "$", ...path] = t.split(".");
    return { kind: "field", base, path };
  }
  return { kind: "ident", name: t };
}

/** Every field name a template reads (Ollama picks its way of rendering by whether `Messages` is among them). */
export function goTemplateFields(nodes: GoNode[]): string[] {
  const names = new Set<string>();
  const pipe = (p: GoPipe) => p.cmds.flat().forEach(arg);
  const arg = (a: GoArg) => {
    if (a.kind === "field") a.path.forEach((n) => names.add(n));
    if (a.kind === "sub") {
      pipe(a.pipe);
      a.path.forEach((n) => names.add(n));
    }
  };
  const walk = (list: GoNode[]) => {
    for (const n of list) {
      if (n.kind === "text") continue;
      pipe(n.pipe);
      if (n.kind !== "action") {
        walk(n.list);
        if (n.elseList) walk(n.elseList);
      }
    }
  };
  walk(nodes);
  return [...names];
}
