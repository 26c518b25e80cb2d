/** A GGUF whose file name says it is a multimodal projector (`mmproj-Tiny-F16.gguf`, `Tiny.mmproj-f16.gguf`). */
export function isProjectorPath(path: string): boolean {
  const name = path.split("/").pop() ?? path;
  return name.toLowerCase().endsWith(".gguf") && /mmproj/i.test(name);
}
