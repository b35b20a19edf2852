/** @module The bench's raw TCP references: a file's bytes copied over loopback from this process to a child that discards them, or writes them to a file as a receiver must. */
import { open } from "node:fs/promises";

/** Chunk size of the reference copy: the same 4 MiB reads the send uses. */
const CHUNK_BYTES = 4 * 1024 * 1024;

// The sink: a Bun child listening on an ephemeral loopback port; it prints the port, counts what it reads and
// prints the count when the sender closes. Given a path (argv[1]), it also writes what it reads there and
// fsyncs it at the end, as a receiver files a recording: the floor a transfer to disk cannot go under.
const SINK = `
const fs = require("node:fs");
const path = process.argv[1];
const fd = path ? fs.openSync(path, "w") : -1;
let n = 0;
const server = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    data(_s, d) {
      n += d.byteLength;
      for (let at = 0; fd >= 0 && at < d.byteLength; ) at += fs.writeSync(fd, d, at);
    },
    close() {
      if (fd >= 0) { fs.fsyncSync(fd); fs.closeSync(fd); }
      console.log(String(n));
      server.stop(true);
    },
  },
});
console.log(String(server.port));
`;

/**
 * Copies `path` over a loopback TCP connection; seconds from first byte to the sink's count. The file is read once
 * untimed first, so the copy reads it from the page cache as the send after it does: a file just written or
 * evicted made the reference measure the disk (544-828 MB/s against 1,182-3,074 MB/s warm in one run). With
 * `toFile`, the sink writes the bytes to that path and the time runs until its fsync returns; the caller
 * removes the file.
 */
export async function rawTcpCopy(
  path: string,
  o: { toFile?: string } = {},
): Promise<{ bytes: number; seconds: number }> {
  const sink = Bun.spawn([process.execPath, "-e", SINK, ...(o.toFile ? [o.toFile] : [])], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const lines = sink.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error("raw TCP sink exited before listening");
    text += value;
  }
  const port = Number(text.split("\n")[0]);
  text = text.slice(text.indexOf("\n") + 1);
  const file = await open(path, "r");
  const buffer = new Uint8Array(CHUNK_BYTES);
  for (let at = 0; ; ) {
    const { bytesRead } = await file.read(buffer, 0, CHUNK_BYTES, at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  let drained: (() => void) | undefined;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: { data() {}, drain: () => drained?.() },
  });
  const t0 = Bun.nanoseconds();
  let sent = 0;
  for (;;) {
    const { bytesRead } = await file.read(buffer, 0, CHUNK_BYTES, sent);
    if (bytesRead === 0) break;
    let off = 0;
    while (off < bytesRead) {
      const n = socket.write(buffer.subarray(off, bytesRead));
      off += n;
      if (off < bytesRead) await new Promise<void>((r) => (drained = r));
    }
    sent += bytesRead;
  }
  socket.end();
  await file.close();
  while (!text.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    text += value;
  }
  const seconds = (Bun.nanoseconds() - t0) / 1e9;
  await sink.exited;
  const bytes = Number(text.split("\n")[0]);
  if (bytes !== sent) throw new Error(`raw TCP copy: sent ${sent}, the sink counted ${bytes}`);
  return { bytes, seconds };
}
