/** @module The first line a child process prints: where a node or a helper process says it is listening. */

/** Reads `proc`'s stdout up to its first newline; the rest stays unread. Throws if the process ends first. */
export async function firstLine(proc: { stdout: ReadableStream<Uint8Array> }): Promise<string> {
  const reader = proc.stdout.getReader();
  let out = "";
  const dec = new TextDecoder();
  while (!out.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("process exited before printing its first line");
    out += dec.decode(value, { stream: true });
  }
  reader.releaseLock();
  return out.slice(0, out.indexOf("\n"));
}
