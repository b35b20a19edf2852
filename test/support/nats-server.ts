/** @module A throwaway nats-server (Debian's package) for tests, on a free loopback port. */
import { existsSync } from "node:fs";
import { createConnection } from "node:net";
import type { Subprocess } from "bun";
import { freePort } from "./free-port.ts";

const CANDIDATES = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"];

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: "127.0.0.1", port });
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

/** `await using nats = await NatsServer.start()`; `nats.url` is what `--nats` takes. */
export class NatsServer {
  readonly port: number;
  readonly #proc: Subprocess;

  private constructor(port: number, proc: Subprocess) {
    this.port = port;
    this.#proc = proc;
  }

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(): Promise<NatsServer> {
    const bin = CANDIDATES.find((p) => existsSync(p));
    if (!bin)
      throw new Error(
        "Cannot start nats-server for the tests: not installed (apt-get install nats-server; .ci/run does)",
      );
    const port = await freePort();
    const proc = Bun.spawn([bin, "-a", "127.0.0.1", "-p", String(port)], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    const until = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (proc.exitCode !== null || Date.now() > until) {
        proc.kill();
        throw new Error(`Cannot start nats-server on ${port}: ${await new Response(proc.stderr).text()}`);
      }
      await Bun.sleep(20);
    }
    return new NatsServer(port, proc);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#proc.kill();
    await this.#proc.exited;
  }
}
