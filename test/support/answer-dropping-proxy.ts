/** @module A TCP proxy that passes each request to a real node and cuts the connection as the answer starts: a node that did the work and died before answering, seen from the client. */
import { createConnection, createServer, type Server, type Socket } from "node:net";

/**
 * For plain HTTP only (the first bytes back are the answer; under TLS they would be the handshake). Every
 * connection's request reaches the upstream whole; the moment the upstream answers, both sockets are destroyed,
 * so the client sees a reset with no status line. `answersDropped` counts them.
 */
export class AnswerDroppingProxy {
  readonly port: number;
  answersDropped = 0;
  readonly #server: Server;
  readonly #sockets: Set<Socket>;

  private constructor(server: Server, port: number, sockets: Set<Socket>) {
    this.#server = server;
    this.port = port;
    this.#sockets = sockets;
  }

  static async start(upstream: { host: string; port: number }): Promise<AnswerDroppingProxy> {
    let proxy: AnswerDroppingProxy | undefined;
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const up = createConnection(upstream);
      sockets.add(client).add(up);
      client.on("data", (b) => up.write(b));
      up.once("data", () => {
        if (proxy) proxy.answersDropped++;
        client.resetAndDestroy();
        up.destroy();
      });
      const close = () => {
        client.destroy();
        up.destroy();
      };
      client.on("error", close).on("close", close);
      up.on("error", close).on("close", close);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new AnswerDroppingProxy(server, (server.address() as { port: number }).port, sockets);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
