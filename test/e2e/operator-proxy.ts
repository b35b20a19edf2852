/** @module A curious operator's view of its own node: a TLS front with the node's certificate and key that records every request and response byte, then forwards it. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TLS_CERT_FILE, TLS_KEY_FILE } from "../../control/tls/node-certificate.ts";
import { nodeFetch } from "../../protocol/node-fetch.ts";

export interface Exchange {
  method: string;
  path: string;
  request: Buffer;
  response: Buffer;
}

/**
 * The operator holds the node's TLS key, so whatever crosses TLS to the node is plaintext to it: this proxy is
 * that view. Recorders pointed at it (`--node`) pin the same certificate and notice nothing.
 */
export class OperatorProxy implements Disposable {
  readonly exchanges: Exchange[] = [];
  readonly #server: ReturnType<typeof Bun.serve>;

  constructor(nodeDataDir: string, nodeUrl: string, pin: string) {
    const upstream = nodeFetch({ kind: "pin", pin });
    this.#server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      maxRequestBodySize: 1024 ** 3,
      tls: {
        cert: readFileSync(join(nodeDataDir, TLS_CERT_FILE), "utf8"),
        key: readFileSync(join(nodeDataDir, TLS_KEY_FILE), "utf8"),
      },
      fetch: async (req) => {
        const url = new URL(req.url);
        const request = Buffer.from(await req.arrayBuffer());
        const headers = new Headers(req.headers);
        headers.delete("host");
        const res = await upstream(`${nodeUrl}${url.pathname}${url.search}`, {
          method: req.method,
          headers,
          ...(request.byteLength > 0 ? { body: request } : {}),
        });
        const response = Buffer.from(await res.arrayBuffer());
        this.exchanges.push({ method: req.method, path: url.pathname, request, response });
        const out = new Headers(res.headers);
        out.delete("content-length");
        out.delete("content-encoding");
        return new Response(response, { status: res.status, headers: out });
      },
    });
  }

  get url(): string {
    return `https://127.0.0.1:${this.#server.port}`;
  }

  /** Every byte seen, both directions, as one buffer to search. */
  all(): Buffer {
    return Buffer.concat(
      this.exchanges.flatMap((e) => [Buffer.from(`${e.method} ${e.path}\n`), e.request, e.response]),
    );
  }

  [Symbol.dispose](): void {
    this.#server.stop(true);
  }
}
