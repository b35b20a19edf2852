/** @module The control nodes' message bus: one NATS connection, requests that tell "no responders" from a timeout, and request handlers. */
import {
  connect,
  type NatsConnection,
  NoRespondersError,
  RequestError,
  TimeoutError,
} from "@nats-io/transport-node";

/** A request's outcome: the reply's bytes, nobody subscribed to the subject, or no reply in time. */
export type BusReply = Uint8Array | "no-responders" | "timeout";

export class NatsBus {
  readonly #nc: NatsConnection;
  readonly #log: (msg: string) => void;

  private constructor(nc: NatsConnection, log: (msg: string) => void) {
    this.#nc = nc;
    this.#log = log;
  }

  /** Connects to servers ("host:port", comma-separated for a NATS cluster); reconnects without end if it drops. */
  static async connect(servers: string, o: { name: string; log: (msg: string) => void }): Promise<NatsBus> {
    const nc = await connect({
      servers: servers.split(",").map((s) => s.trim()),
      name: o.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    return new NatsBus(nc, o.log);
  }

  /**
   * One request. "no-responders" comes from the NATS server at once when no subscription matches the subject,
   * which is how a node that has gone is told apart from one that is slow.
   */
  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<BusReply> {
    try {
      return (await this.#nc.request(subject, data, { timeout: timeoutMs })).data;
    } catch (err) {
      if (err instanceof NoRespondersError) return "no-responders";
      if (err instanceof RequestError && err.isNoResponders()) return "no-responders";
      if (err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError))
        return "timeout";
      throw err;
    }
  }

  /** Answers requests on subject; a handler resolving null sends no reply (the requester times out). */
  serve(subject: string, handler: (data: Uint8Array) => Promise<Uint8Array | null>): void {
    this.#nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          this.#log(`bus subscription ${subject} failed: ${err.message}`);
          return;
        }
        handler(msg.data)
          .then((reply) => {
            if (reply) msg.respond(reply);
          })
          .catch((e: unknown) => this.#log(`bus handler for ${subject} failed: ${(e as Error).message}`));
      },
    });
  }

  /** Waits until the server has the subscriptions made so far (so a request right after finds them). */
  async flush(): Promise<void> {
    await this.#nc.flush();
  }

  /** Finishes the requests in flight, then closes. */
  async close(): Promise<void> {
    if (!this.#nc.isClosed()) await this.#nc.drain();
  }
}
