/** Environment variables whose values are secrets: never printed, whatever text carries them. */
export const secretEnvNames = ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_API_TOKEN"] as const;

/**
 * Text fit to print: every secret redacted (the token's own value wherever it appears, anything shaped like a Hub
 * token, the credential after `Bearer`), and control characters shown as escapes instead of acting on the terminal
 * (a server's or a file's ESC, BEL, backspace or carriage return; bidirectional overrides). Tabs stay.
 */
export function forTerminal(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return printable(redactSecrets(text, env));
}

/** Secrets out of a text: the environment's token values, Hub-shaped tokens, Bearer credentials. */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = text.replace(/\b(Bearer)(\s+)[A-Za-z0-9._~+/=-]{8,}/g, "$1$2***");
  for (const name of secretEnvNames) {
    const value = env[name];
    // Short values are not tokens, and replacing them would mangle ordinary words.
    if (value && value.length >= 8) out = out.split(value).join(`${name}***`);
  }
  return out.replace(/\bhf_[A-Za-z0-9]{30,}/g, "hf_***");
}

/** Control characters and bidi overrides as visible escapes (`\x1b`, `\u202e`); tab kept. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
