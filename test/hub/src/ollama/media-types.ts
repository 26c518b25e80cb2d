/** The media types of an Ollama image as the Hub's registry writes them (Ollama reads layers by these). */
export const mediaTypes = {
  manifest: "application/vnd.docker.distribution.manifest.v2+json",
  config: "application/vnd.docker.container.image.v1+json",
  model: "application/vnd.ollama.image.model",
  projector: "application/vnd.ollama.image.projector",
  system: "application/vnd.ollama.image.system",
  template: "application/vnd.ollama.image.template",
  params: "application/vnd.ollama.image.params",
  license: "application/vnd.ollama.image.license",
} as const;
