/** One message of a chat, as a chat template (and Ollama's /api/chat) takes it. */
export interface ChatShapeMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/**
 * The conversations a model's chat template is held to (each rendered with the generation prompt), by the name a user
 * reads in a line that says which of them an Ollama Modelfile renders otherwise.
 */
export const chatShapes: Record<string, ChatShapeMessage[]> = {
  "[user]": [{ role: "user", content: "What is 2 + 2?" }],
  "[system, user]": [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "What is 2 + 2?" },
  ],
  "[user, assistant, user]": [
    { role: "user", content: "What is 2 + 2?" },
    { role: "assistant", content: "2 + 2 = 4." },
    { role: "user", content: "And 3 + 3?" },
  ],
  "[system, user, assistant, user]": [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "What is 2 + 2?" },
    { role: "assistant", content: "2 + 2 = 4." },
    { role: "user", content: "And 3 + 3?" },
  ],
};
