/** @module One side of a hole-punch run in a bed namespace: node rendezvous, callee or caller; prints what happened. */
/*
 * Usage (each in its own namespace; one JSON argument, see PeerConfig):
 *   bun test/net/punch-peer.ts node   '{"devices":{"dev_a":"<secret b64url>",...},"session":{...}}'
 *      -> "udp <port>"
 *   bun test/net/punch-peer.ts callee '{"node":{...},"deviceId":...,"secret":...,"session":{...},"peerId":...}'
 *      -> "punched <via> <address:port> <ms>", then "received <bytes> <sha256> <ms>" per channel
 *   bun test/net/punch-peer.ts caller '{..., "mib": 8}'
 *      -> "accepted <via> <address:port> mapping=<ms> punch=<ms> accepted=<ms>", "sent <bytes> <sha256> <ms>"
 *   Any failure prints "failed <code> <message>" and exits 1. Raw TCP for comparison:
 *   bun test/net/punch-peer.ts tcp-sink '{"port":7100}'  /  tcp-source '{"host":...,"port":7100,"mib":8}'
 */
import { createHash } from "node:crypto";
import { connect, createServer } from "node:net";
import { UdpEndpoint } from "../../control/udp/udp-endpoint.ts";
import { fromBase64url } from "../../crypto/random-token.ts";
import { DirectChannelError } from "../../firmware/direct/direct-error.ts";
import { listenDirect } from "../../firmware/direct/direct-listener.ts";
import { acceptPunched } from "../../firmware/direct/punched-accept.ts";
import { dialPunched } from "../../firmware/direct/punched-dial.ts";
import { SessionTicketStore } from "../../firmware/direct/session-ticket-store.ts";
import { SeededRandom } from "../support/seeded-random.ts";
import { NODE_ADDR } from "./net-bed.ts";

interface PeerConfig {
  node: { host: string; port: number };
  deviceId: string;
  secret: string;
  peerId: string;
  session: { id: string; key: string; password: string };
  mib?: number;
  deadlineMs?: number;
  lowTtlPhaseMs?: number;
}

const CHUNK = 256 * 1024;

/** The payload both sides agree on: seeded, so the callee's hash proves byte identity without shipping a file. */
function* payload(mib: number): Generator<Uint8Array> {
  const rand = new SeededRandom(15);
  const block = rand.bytes(CHUNK);
  for (let i = 0; i < (mib * 1024 * 1024) / CHUNK; i++) {
    block[0] = i & 0xff; // every chunk differs, so a repeated or dropped chunk changes the hash
    block[1] = (i >> 8) & 0xff;
    yield block.slice();
  }
}

const print = (line: string) => process.stdout.write(`${line}\n`);

function fail(err: unknown): never {
  const code = err instanceof DirectChannelError ? err.code : "ERR_UNEXPECTED";
  print(`failed ${code} ${(err as Error).message ?? String(err)}`);
  process.exit(1);
}

async function runNode(c: {
  devices: Record<string, string>;
  session: { id: string; caller: string; callee: string };
}) {
  const endpoint = await UdpEndpoint.start({
    host: NODE_ADDR,
    port: 0,
    lookupSecret: (id) => (c.devices[id] ? fromBase64url(c.devices[id]) : null),
    onKeepalive: () => {},
    sessionParties: (id) =>
      id === c.session.id ? { callerId: c.session.caller, calleeId: c.session.callee } : null,
  });
  print(`udp ${endpoint.address.port}`);
}

async function runCallee(c: PeerConfig) {
  const tickets = new SessionTicketStore();
  tickets.add({
    sessionId: c.session.id,
    callerId: c.peerId,
    password: c.session.password,
    key: c.session.key,
    expiresAt: Date.now() + 600_000,
  });
  const listener = await listenDirect({
    host: "127.0.0.1",
    port: 0,
    tickets,
    onConnection: (conn) => {
      void (async () => {
        const t0 = performance.now();
        const h = createHash("sha256");
        let bytes = 0;
        try {
          for await (const m of conn.messages()) {
            if (m.type === "data") {
              h.update(m.bytes);
              bytes += m.bytes.byteLength;
            }
          }
          print(`received ${bytes} ${h.digest("hex")} ${(performance.now() - t0).toFixed(0)}`);
        } catch (err) {
          print(
            `received-failed ${bytes} ${(err as DirectChannelError).code ?? "?"} ${(err as Error).message}`,
          );
        }
      })();
    },
  });
  const { path } = await acceptPunched({
    node: c.node,
    deviceId: c.deviceId,
    secret: fromBase64url(c.secret),
    session: c.session,
    listener,
    ...(c.deadlineMs !== undefined ? { deadlineMs: c.deadlineMs } : {}),
    ...(c.lowTtlPhaseMs !== undefined ? { lowTtlPhaseMs: c.lowTtlPhaseMs } : {}),
  }).catch(fail);
  print(`punched ${path.remote.via} ${path.remote.address}:${path.remote.port} ${path.elapsedMs.toFixed(0)}`);
}

async function runCaller(c: PeerConfig) {
  const d = await dialPunched({
    node: c.node,
    deviceId: c.deviceId,
    secret: fromBase64url(c.secret),
    session: c.session,
    password: c.session.password,
    calleeId: c.peerId,
    ...(c.deadlineMs !== undefined ? { deadlineMs: c.deadlineMs } : {}),
    ...(c.lowTtlPhaseMs !== undefined ? { lowTtlPhaseMs: c.lowTtlPhaseMs } : {}),
  }).catch(fail);
  const t = d.timings;
  print(
    `accepted ${d.path.remote.via} ${d.path.remote.address}:${d.path.remote.port} mapping=${t.mappingMs.toFixed(0)} punch=${t.punchMs.toFixed(0)} accepted=${t.acceptedMs.toFixed(0)}`,
  );
  const h = createHash("sha256");
  const t0 = performance.now();
  const sent = await d.conn
    .sendStream(
      (async function* () {
        for (const b of payload(c.mib ?? 1)) {
          h.update(b);
          yield b;
        }
      })(),
      undefined,
      { clear: true },
    )
    .catch(fail);
  await d.conn.close().catch(fail);
  print(`sent ${sent} ${h.digest("hex")} ${(performance.now() - t0).toFixed(0)}`);
  process.exit(0);
}

async function runTcpSink(c: { port: number }) {
  const server = createServer((s) => {
    const t0 = performance.now();
    const h = createHash("sha256");
    let bytes = 0;
    s.on("data", (b: Uint8Array) => {
      h.update(b);
      bytes += b.byteLength;
    });
    s.on("end", () => print(`received ${bytes} ${h.digest("hex")} ${(performance.now() - t0).toFixed(0)}`));
  });
  server.listen(c.port, "0.0.0.0", () => print(`tcp ${c.port}`));
}

async function runTcpSource(c: { host: string; port: number; mib: number }) {
  const s = connect({ host: c.host, port: c.port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    s.once("connect", resolve);
    s.once("error", reject);
  }).catch(fail);
  const h = createHash("sha256");
  const t0 = performance.now();
  let sent = 0;
  for (const b of payload(c.mib)) {
    h.update(b);
    sent += b.byteLength;
    if (!s.write(Buffer.from(b))) await new Promise((r) => s.once("drain", r));
  }
  await new Promise<void>((r) => s.end(() => r()));
  print(`sent ${sent} ${h.digest("hex")} ${(performance.now() - t0).toFixed(0)}`);
  s.once("close", () => process.exit(0));
}

const [mode, json] = process.argv.slice(2);
const config = JSON.parse(json ?? "{}");
const modes: Record<string, (c: never) => Promise<void>> = {
  node: runNode,
  callee: runCallee,
  caller: runCaller,
  "tcp-sink": runTcpSink,
  "tcp-source": runTcpSource,
};
const run = modes[mode ?? ""];
if (!run) {
  print(`failed ERR_USAGE unknown mode ${mode}`);
  process.exit(2);
}
await run(config as never).catch(fail);
