/** @module Test helpers for the direct channel: tickets, a listener with captured logs, a frame-rewriting proxy. */
import { connect, createServer, type Server, type Socket } from "node:net";
import { randomToken } from "../../crypto/random-token.ts";
import type { DirectConnection } from "../../firmware/direct/direct-connection.ts";
import { dialDirect } from "../../firmware/direct/direct-dial.ts";
import { DirectChannelError } from "../../firmware/direct/direct-error.ts";
import {
  decodePreamble,
  FrameReader,
  frameHeader,
  isClearFrame,
} from "../../firmware/direct/direct-frame.ts";
import {
  type DirectListener,
  type DirectLogEvent,
  listenDirect,
} from "../../firmware/direct/direct-listener.ts";
import type { DirectMessage } from "../../firmware/direct/direct-message.ts";
import { SessionTicketStore, type TicketInput } from "../../firmware/direct/session-ticket-store.ts";

export interface Kit extends AsyncDisposable {
  listener: DirectListener;
  tickets: SessionTicketStore;
  logs: DirectLogEvent[];
  /** Accepted connections, in order, as the callee sees them. */
  accepted: DirectConnection[];
  nextAccepted(): Promise<DirectConnection>;
  ticket(over?: Partial<TicketInput>): TicketInput & { key: string };
}

export async function startKit(
  opts: {
    handshakeTimeoutMs?: number;
    frameTimeoutMs?: number;
    resume?: boolean;
    patternVersions?: readonly number[];
  } = {},
): Promise<Kit> {
  const tickets = new SessionTicketStore();
  const logs: DirectLogEvent[] = [];
  const accepted: DirectConnection[] = [];
  let notify: (() => void) | undefined;
  const listener = await listenDirect({
    host: "127.0.0.1",
    port: 0,
    tickets,
    log: (e) => logs.push(e),
    onConnection: (c) => {
      accepted.push(c);
      notify?.();
    },
    ...opts,
  });
  let taken = 0;
  return {
    listener,
    tickets,
    logs,
    accepted,
    async nextAccepted() {
      while (accepted.length <= taken) await new Promise<void>((r) => (notify = r));
      return accepted[taken++]!;
    },
    ticket(over = {}) {
      const t = {
        sessionId: randomToken(12),
        callerId: `dev_${randomToken(9)}`,
        password: randomToken(16),
        key: randomToken(32),
        expiresAt: Date.now() + 3_600_000,
        ...over,
      };
      tickets.add(t);
      return t as TicketInput & { key: string };
    },
    [Symbol.asyncDispose]: () => listener.close(),
  };
}

/** What dialDirect needs to reach a kit's listener (or a proxy in front of it) with a kit ticket. */
export const dialOptions = (
  port: number,
  t: { sessionId: string; password: string; key: string; callerId: string },
) => ({
  host: "127.0.0.1",
  port,
  sessionId: t.sessionId,
  password: t.password,
  key: t.key,
  callerId: t.callerId,
});

/** Every message until the peer's orderly close; rejects with the channel's error. */
export async function collect(it: AsyncIterable<DirectMessage>): Promise<DirectMessage[]> {
  const out: DirectMessage[] = [];
  for await (const m of it) out.push(m);
  return out;
}

/** A proxied pair's callee side: the messages it got (DATA bytes copied) and how its reading ended. */
export interface ProxiedPair extends AsyncDisposable {
  caller: DirectConnection;
  callee: DirectConnection;
  proxy: Awaited<ReturnType<typeof startProxy>>;
  received: DirectMessage[];
  /** "ended" after an orderly close, else the code of the error that closed the callee's side. */
  result: Promise<string>;
}

/** A caller dialled through startProxy(onFrame) to a fresh kit, with the callee's side read in the background. */
export async function proxiedPair(
  onFrame?: Parameters<typeof startProxy>[1],
  opts: { frameTimeoutMs?: number } = {},
): Promise<ProxiedPair> {
  const kit = await startKit(opts.frameTimeoutMs ? { frameTimeoutMs: opts.frameTimeoutMs } : {});
  const t = kit.ticket();
  const proxy = await startProxy({ host: "127.0.0.1", port: kit.listener.port }, onFrame);
  const caller = await dialDirect(dialOptions(proxy.port, t));
  const callee = await kit.nextAccepted();
  const received: DirectMessage[] = [];
  const result = (async () => {
    for await (const m of callee.messages()) {
      received.push(m.type === "data" ? { ...m, bytes: new Uint8Array(m.bytes) } : m);
    }
  })().then(
    () => "ended",
    (e: DirectChannelError) => e.code,
  );
  return {
    caller,
    callee,
    proxy,
    received,
    result,
    async [Symbol.asyncDispose]() {
      caller.fail(new DirectChannelError("ERR_DIRECT_CLOSED", "test over"));
      await proxy.close();
      await kit.listener.close();
    },
  };
}

/**
 * A TCP proxy in front of the listener that parses the caller's bytes into preamble and sealed frames and lets a
 * test rewrite them: onFrame(i, sealed) returns the raw byte strings to forward instead (framed or not).
 */
export async function startProxy(
  target: { host: string; port: number },
  onFrame: (i: number, sealed: Uint8Array, up: Socket) => Uint8Array[] = (_, s) => [framed(s)],
): Promise<{ port: number; recorded: Uint8Array[]; close(): Promise<void> }> {
  const recorded: Uint8Array[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((down) => {
    const up = connect({ host: target.host, port: target.port });
    sockets.add(down).add(up);
    down.on("error", () => {});
    up.on("error", () => {});
    up.on("data", (d) => down.write(d));
    up.on("close", () => down.destroy());
    down.on("close", () => up.end());
    let pre = new Uint8Array(0);
    let inPreamble = true;
    const reader = new FrameReader();
    let i = 0;
    down.on("data", (d: Uint8Array) => {
      recorded.push(new Uint8Array(d));
      let rest: Uint8Array = d;
      if (inPreamble) {
        pre = new Uint8Array([...pre, ...d]);
        const p = decodePreamble(pre);
        if (!p) return;
        inPreamble = false;
        up.write(pre.subarray(0, p.length));
        rest = pre.subarray(p.length);
      }
      for (const f of reader.push(rest))
        for (const out of onFrame(i++, f, up)) if (!up.destroyed) up.write(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    recorded,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Re-frames a frame the proxy read, keeping its clear flag (clear frames are type || bytes || tag). */
export function framed(sealed: Uint8Array, clear = isClearFrame(sealed)): Uint8Array {
  const out = new Uint8Array(4 + sealed.length);
  out.set(frameHeader(sealed.length, clear));
  out.set(sealed, 4);
  return out;
}

/** An onFrame for startProxy that holds frame 1 back and forwards it after frame 2. */
export function reorderFrames(): (i: number, sealed: Uint8Array) => Uint8Array[] {
  let held: Uint8Array | undefined;
  return (i, s) => {
    if (i === 1) {
      held = s;
      return [];
    }
    return i === 2 && held ? [framed(s), framed(held)] : [framed(s)];
  };
}

/** Sends raw bytes on a fresh socket and resolves when the peer has closed it (or after timeoutMs). */
export function rawExchange(
  port: number,
  bytes: Uint8Array,
  opts: { end?: boolean; timeoutMs?: number } = {},
) {
  return new Promise<{ received: number; closedByPeer: boolean }>((resolve) => {
    let received = 0;
    const s = connect({ host: "127.0.0.1", port }, () => {
      s.write(bytes);
      if (opts.end ?? true) s.end();
    });
    const t = setTimeout(() => {
      s.destroy();
      resolve({ received, closedByPeer: false });
    }, opts.timeoutMs ?? 5000);
    s.on("data", (d) => (received += d.length));
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(t);
      resolve({ received, closedByPeer: true });
    });
  });
}
