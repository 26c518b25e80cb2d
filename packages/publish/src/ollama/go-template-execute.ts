import { GoTemplateError, type GoNode, type GoPipe } from "./go-template.js";

type Scope = Map<string, unknown>[];

/** Go's truth: false, 0, nil, and empty strings, arrays and maps are false. */
function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

/** How Go prints a value with {{ }}: a missing map key is `<no value>`. */
function printed(v: unknown): string {
  if (v === undefined) return "<no value>";
  if (v === null) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "object" && v !== null && "toString" in v && (v as { toString: unknown }).toString !== Object.prototype.toString) return String(v);
  if (Array.isArray(v)) return `[${v.map(printed).join(" ")}]`;
  if (typeof v === "object") return `map[${Object.entries(v).map(([k, x]) => `${k}:${printed(x)}`).join(" ")}]`;
  return String(v);
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  throw new GoTemplateError(`incompatible types for comparison: ${typeof a} and ${typeof b}`);
}

const functions: Record<string, (...args: unknown[]) => unknown> = {
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  not: (a) => !truthy(a),
  len: (a) => (typeof a === "string" || Array.isArray(a) ? a.length : typeof a === "object" && a !== null ? Object.keys(a).length : 0),
  index: (a, ...keys) => keys.reduce((x: unknown, k) => (x as Record<string, unknown> | unknown[] | undefined)?.[k as never], a),
  slice: (a, i, j) => (Array.isArray(a) || typeof a === "string" ? a.slice(Number(i ?? 0), j === undefined ? undefined : Number(j)) : a),
  print: (...args) => args.map(printed).join(""),
  println: (...args) => `${args.map(printed).join(" ")}\n`,
  json: (a) => JSON.stringify(a ?? null),
  // Ollama's own (template.go): the date as YYYY-MM-DD.
  currentDate: () => new Date().toISOString().slice(0, 10),
  yesterdayDate: () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10),
};

/** Renders parsed nodes against the data (Go's field names: `Messages`, `Role`, `Content`…). */
export function executeGoTemplate(nodes: GoNode[], data: unknown): string {
  const out: string[] = [];
  const scope: Scope = [new Map([["$", data]])];
  run(nodes, data, scope, out);
  return out.join("");
}

function run(nodes: GoNode[], dot: unknown, scope: Scope, out: string[]): void {
  for (const node of nodes) {
    if (node.kind === "text") out.push(node.text);
    else if (node.kind === "action") {
      const value = pipe(node.pipe, dot, scope);
      if (node.pipe.vars.length === 0) out.push(printed(value));
    } else if (node.kind === "if" || node.kind === "with") {
      scope.push(new Map());
      const value = pipe(node.pipe, dot, scope);
      if (truthy(value)) run(node.list, node.kind === "with" ? value : dot, scope, out);
      else if (node.elseList) run(node.elseList, dot, scope, out);
      scope.pop();
    } else {
      scope.push(new Map());
      const value = evalPipe(node.pipe, dot, scope);
      const items: [unknown, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : typeof value === "object" && value !== null ? Object.entries(value) : [];
      if (items.length === 0 && node.elseList) run(node.elseList, dot, scope, out);
      for (const [key, item] of items) {
        const vars = node.pipe.vars;
        const frame = new Map<string, unknown>();
        if (vars.length === 1 && vars[0]) frame.set(vars[0], item);
        if (vars.length === 2 && vars[0] && vars[1]) {
          frame.set(vars[0], key);
          frame.set(vars[1], item);
        }
        scope.push(frame);
        run(node.list, item, scope, out);
        scope.pop();
      }
      scope.pop();
    }
  }
}

/** A pipeline with its variables declared or assigned; its value. */
function pipe(p: GoPipe, dot: unknown, scope: Scope): unknown {
  const value = evalPipe(p, dot, scope);
  for (const name of p.vars) {
    if (p.assign) {
      const frame = [...scope].reverse().find((f) => f.has(name));
      if (!frame) throw new GoTemplateError(`undefined variable: ${name}`);
      frame.set(name, value);
    } else scope.at(-1)?.set(name, value);
  }
  return value;
}

function evalPipe(p: GoPipe, dot: unknown, scope: Scope): unknown {
  let carried: unknown[] = [];
  let value: unknown;
  for (const cmd of p.cmds) {
    value = command(cmd, dot, scope, carried);
    carried = [value];
  }
  return value;
}

function command(args: GoPipe["cmds"][number], dot: unknown, scope: Scope, carried: unknown[]): unknown {
  const [head, ...rest] = args;
  if (!head) return undefined;
  if (head.kind === "ident") {
    const name = head.name;
    // and/or stop at the first value that decides them, and return it (Go 1.18).
    if (name === "and" || name === "or") {
      let last: unknown = undefined;
      for (const a of [...rest, ...carried.map((value) => ({ kind: "literal" as const, value }))]) {
        last = value(a, dot, scope);
        if (name === "and" ? !truthy(last) : truthy(last)) return last;
      }
      return last;
    }
    const fn = functions[name];
    if (!fn) throw new GoTemplateError(`function "${name}" not defined`);
    return fn(...rest.map((a) => value(a, dot, scope)), ...carried);
  }
  return value(head, dot, scope);
}

function value(a: GoPipe["cmds"][number][number], dot: unknown, scope: Scope): unknown {
  if (a.kind === "literal") return a.value;
  if (a.kind === "ident") return command([a], dot, scope, []);
  if (a.kind === "sub") return fields(evalPipe(a.pipe, dot, scope), a.path);
  if (a.base === undefined) return fields(dot, a.path);
  const frame = [...scope].reverse().find((f) => f.has(a.base ?? ""));
  if (!frame) throw new GoTemplateError(`undefined variable: ${a.base}`);
  return fields(frame.get(a.base), a.path);
}

function fields(v: unknown, path: string[]): unknown {
  let x = v;
  for (const name of path) x = x === null || x === undefined ? undefined : (x as Record<string, unknown>)[name];
  return x;
}
