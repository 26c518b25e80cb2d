import type { Call, Route } from "../context.js";
import { badRequest } from "../hub-error.js";
import { isObject, readJson } from "../read-body.js";
import { sendJson } from "../reply.js";

/**
 * `validate-yaml`, which the Python client calls before committing a README.md. Checked here: that front matter, when
 * present, is closed. The Hub also checks the metadata against its schemas (license ids and such); that is not copied.
 */
async function validateYaml(call: Call): Promise<void> {
  const body = await readJson(call.req);
  if (!isObject(body) || typeof body.content !== "string") throw badRequest("Expected { content, repoType }");
  const content = body.content.replace(/^\uFEFF/, "");
  if (!/^---\r?\n/.test(content)) {
    sendJson(call.res, 200, { errors: [], warnings: [{ message: "empty or missing yaml metadata in repo card" }] });
    return;
  }
  if (!/\r?\n---\s*(\r?\n|$)/.test(content.slice(3))) {
    sendJson(call.res, 400, { error: "Invalid metadata in README.md.", errors: [{ message: "The YAML front matter is not closed by a '---' line" }], warnings: [] });
    return;
  }
  sendJson(call.res, 200, { errors: [], warnings: [] });
}

export const validateYamlRoutes: Route[] = [{ methods: ["POST"], pattern: /^\/api\/validate-yaml$/, write: false, handle: validateYaml }];
