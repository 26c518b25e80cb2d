import { executeGoTemplate } from "./go-template-execute.js";
import { goTemplateFields, parseGoTemplate, type GoNode, type GoPipe } from "./go-template.js";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface RenderOllamaPromptParams {
  /** The Modelfile's TEMPLATE. */
  template: string;
  /** The Modelfile's SYSTEM: Ollama puts it first when a chat has no system message of its own. */
  system?: string;
  messages: ChatMessage[];
}

/**
 * The prompt `ollama serve` (v0.24.0) renders for an /api/chat request, as its server/routes.go, server/prompt.go and
 * template/template.go do it: the Modelfile's SYSTEM first when the chat has none; consecutive messages of a role
 * merged; a template that reads `.Messages` rendered once with all of them; any other rendered turn by turn
 * (.System, .Prompt, .Response), the last turn cut after `.Response`. Without the BOS, which its runner adds.
 */
export function renderOllamaPrompt(params: RenderOllamaPromptParams): string {
  const messages = params.system && params.messages[0]?.role !== "system" ? [{ role: "system" as const, content: params.system }, ...params.messages] : params.messages;
  const { system, collated } = collate(messages);
  const nodes = parseGoTemplate(params.template);
  const base = { Think: false, ThinkLevel: "", IsThinkSet: false };
  if (goTemplateFields(nodes).some((f) => f.toLowerCase() === "messages")) {
    const Messages = collated.map((m) => ({ Role: m.role, Content: m.content, Thinking: "", Images: [], ToolCalls: [], ToolName: "", ToolCallID: "" }));
    return executeGoTemplate(nodes, { ...base, System: system, Messages, Tools: [], Response: "" });
  }
  let out = "";
  let turn = { System: "", Prompt: "", Response: "" };
  const flush = () => {
    out += executeGoTemplate(nodes, { ...base, ...turn });
    turn = { System: "", Prompt: "", Response: "" };
  };
  for (const m of collated) {
    if (m.role === "system") {
      if (turn.Prompt || turn.Response) flush();
      turn.System = m.content;
    } else if (m.role === "user") {
      if (turn.Response) flush();
      turn.Prompt = m.content;
    } else turn.Response = m.content;
  }
  return out + executeGoTemplate(cutAfterResponse(nodes), { ...base, ...turn });
}

/** template.go's collate: consecutive messages of one role joined by a blank line; every system message's text joined. */
function collate(messages: ChatMessage[]): { system: string; collated: ChatMessage[] } {
  const system: string[] = [];
  const collated: ChatMessage[] = [];
  for (const m of messages) {
    if (m.role === "system") system.push(m.content);
    const last = collated.at(-1);
    if (last && last.role === m.role) last.content += `\n\n${m.content}`;
    else collated.push({ ...m });
  }
  return { system: system.join("\n\n"), collated };
}

/** template.go's deleteNode for the last turn: everything after the first action that prints `.Response` goes. */
function cutAfterResponse(nodes: GoNode[]): GoNode[] {
  let cut = false;
  const hasResponse = (p: GoPipe): boolean => p.cmds.flat().some((a) => (a.kind === "field" && a.path.includes("Response")) || (a.kind === "sub" && hasResponse(a.pipe)));
  const walk = (list: GoNode[]): GoNode[] => {
    const kept: GoNode[] = [];
    for (const n of list) {
      if (cut) continue;
      if (n.kind === "action") {
        if (hasResponse(n.pipe)) cut = true;
        kept.push(n);
      } else if (n.kind === "text") kept.push(n);
      else {
        const inner = walk(n.list);
        const elseList = n.elseList ? walk(n.elseList) : undefined;
        kept.push({ ...n, list: inner, ...(elseList ? { elseList } : {}) });
      }
    }
    return kept;
  };
  return walk(nodes);
}
