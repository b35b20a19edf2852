/** @module A recording TCP tap: a proxy that keeps both directions and can throttle the upstream, so a transfer lasts long enough to interrupt. */
import { connect, createServer, type Server, type Socket } from "node:net";
import type { HostPort } from "../../demo/child-process.ts";

/**
 * A TCP proxy that records both directions and can throttle the client-to-server direction (bytes per
 * second), so a transfer lasts long enough for a lease extension, a forced end or a node restart.
 */
export class Tap implements AsyncDisposable {
  readonly up: Buffer[] = [];
  readonly down: Buffer[] = [];
  readonly #sockets = new Set<Socket>();
  #server!: Server;
  port = 0;

  constructor(
    readonly target: HostPort,
    /** Bytes per second upstream (0: unthrottled); may be changed while running, from the next 16 KiB piece on. */
    public rateBytesPerSec = 0,
  ) {}

  static async start(target: HostPort, rateBytesPerSec = 0): Promise<Tap> {
    const t = new Tap(target, rateBytesPerSec);
    t.#server = createServer((client) => t.#serve(client));
    await new Promise<void>((r) => t.#server.listen(0, "127.0.0.1", r));
    t.port = (t.#server.address() as { port: number }).port;
    return t;
  }

  #serve(client: Socket): void {
    const server = connect({ host: this.target.host, port: this.target.port });
    this.#sockets.add(client).add(server);
    client.on("error", () => {});
    server.on("error", () => {});
    server.on("data", (d: Buffer) => {
      this.down.push(Buffer.from(d));
      client.write(d);
    });
    server.on("close", () => client.destroy());
    client.on("close", () => server.destroy());
    let queue = Promise.resolve();
    client.on("data", (d: Buffer) => {
      this.up.push(Buffer.from(d));
      if (this.rateBytesPerSec <= 0) {
        server.write(d);
        return;
      }
      client.pause();
      queue = queue.then(async () => {
        for (let at = 0; at < d.length; at += 16_384) {
          const piece = d.subarray(at, at + 16_384);
          if (server.destroyed) return;
          server.write(piece);
          await Bun.sleep((piece.length / this.rateBytesPerSec) * 1000);
        }
        client.resume();
      });
    });
    client.on("end", () => void queue.then(() => server.end()));
  }

  upstream(): Buffer {
    return Buffer.concat(this.up);
  }

  /** Cuts every connection at once, dropping what the throttle still holds (the path dies with its sender). */
  cut(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
