/** @module Small probe programs the net bed runs inside namespaces to show what NAT does to real traffic. */
/*
 *   bun test/net/probe.ts udp-echo [PORT]         prints "listening P", then "from IP:PORT TEXT" per datagram and
 *                                                 answers "seen IP:PORT TEXT"; stdin "push IP PORT TEXT" sends
 *                                                 TEXT from the same socket (like a node pushing a trigger)
 *   bun test/net/probe.ts udp-client HOST PORT    prints "bound P"; stdin "send TEXT" sends to HOST:PORT,
 *                                                 "sendto IP PORT TEXT" elsewhere; prints "recv IP:PORT TEXT"
 *                                                 per datagram received from anyone
 *   bun test/net/probe.ts tcp-listen [PORT]       prints "listening P", "accepted IP:PORT" per connection
 *   bun test/net/probe.ts tcp-connect HOST PORT [TIMEOUT_MS]   prints "connected DATA" (exit 0) or "failed CODE" (exit 1)
 *   bun test/net/probe.ts udp-rtt HOST PORT COUNT INTERVAL_MS  probes an udp-echo, prints "result {json}"
 */

import net from "node:net";

/** Echo payloads are shown as text; anything outside printable ASCII is shown as hex so lines stay lines. */
export function printable(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes);
  return /^[\x20-\x7e]*$/.test(text) ? text : `hex:${Buffer.from(bytes).toString("hex")}`;
}

export interface Endpoint {
  address: string;
  port: number;
}

/** Parses "A.B.C.D:PORT"; throws SyntaxError/RangeError for anything else (IPv4 only: the bed has no IPv6). */
export function parseEndpoint(text: string): Endpoint {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/.exec(text);
  if (!m) throw new SyntaxError(`Cannot parse endpoint "${text.slice(0, 40)}": expected A.B.C.D:PORT`);
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) throw new RangeError(`Cannot parse endpoint "${text}": octet above 255`);
  const port = Number(m[5]);
  if (port < 1 || port > 65535)
    throw new RangeError(`Cannot parse endpoint "${text}": port ${port} not in 1..65535`);
  return { address: octets.join("."), port };
}

export interface RttResult {
  sent: number;
  received: number;
  lossPercent: number;
  rttMs: { min: number; median: number; mean: number; p95: number; max: number } | null;
}

/** Summarises per-probe round-trip times; `rtts` holds one entry per answered probe. */
export function summariseRtt(sent: number, rtts: number[]): RttResult {
  const sorted = [...rtts].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    sent,
    received: rtts.length,
    lossPercent: sent === 0 ? 0 : round((100 * (sent - rtts.length)) / sent),
    rttMs:
      sorted.length === 0
        ? null
        : {
            min: round(sorted[0]!),
            median: round(at(0.5)),
            mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
            p95: round(at(0.95)),
            max: round(sorted[sorted.length - 1]!),
          },
  };
}

/** Bun 1.4.5 calls a UDP error handler with the error alone (its typings say socket, error): accept both. */
function socketError(args: unknown[]): string {
  const e = args.find((a) => a instanceof Error) as NodeJS.ErrnoException | undefined;
  return e ? (e.code ?? e.message) : "unknown";
}

async function udpEcho(port: number): Promise<void> {
  const sock = await Bun.udpSocket({
    hostname: "0.0.0.0",
    port,
    socket: {
      data(s, buf, rport, raddr) {
        const text = printable(buf);
        // RTT probes come in bulk; echo them without a log line each.
        if (!text.startsWith("rtt ")) console.log(`from ${raddr}:${rport} ${text}`);
        // A failed send (ICMP unreachable reported on the socket) costs this datagram only, never the server.
        try {
          s.send(`seen ${raddr}:${rport} ${text}`, rport, raddr);
        } catch (e) {
          console.log(`error send ${raddr}:${rport} ${(e as Error).message}`);
        }
      },
      // Without this handler an ICMP port-unreachable, which Linux queues on the socket and Bun reports as
      // ECONNREFUSED on the next receive, is an uncaught error and the socket stops receiving.
      error(...args: unknown[]) {
        console.log(`error socket ${socketError(args)}`);
      },
    },
  });
  console.log(`listening ${sock.port}`);
  for await (const line of console) {
    const m = /^push (\S+) (\d+) (.*)$/.exec(line);
    if (!m) {
      console.log(`error unknown command ${line.slice(0, 40)}`);
      continue;
    }
    try {
      sock.send(m[3]!, Number(m[2]), m[1]!);
      console.log(`pushed ${m[1]}:${m[2]}`);
    } catch (e) {
      console.log(`error push ${m[1]}:${m[2]} ${(e as Error).message}`);
    }
  }
  sock.close();
}

async function udpClient(host: string, port: number): Promise<void> {
  const sock = await Bun.udpSocket({
    hostname: "0.0.0.0",
    socket: {
      data(_s, buf, rport, raddr) {
        console.log(`recv ${raddr}:${rport} ${printable(buf)}`);
      },
      error(...args: unknown[]) {
        console.log(`error socket ${socketError(args)}`);
      },
    },
  });
  console.log(`bound ${sock.port}`);
  for await (const line of console) {
    const to = /^sendto (\S+) (\d+) (.*)$/.exec(line);
    try {
      if (to) sock.send(to[3]!, Number(to[2]), to[1]!);
      else if (line.startsWith("send ")) sock.send(line.slice(5), port, host);
      else console.log(`error unknown command ${line.slice(0, 40)}`);
    } catch (e) {
      console.log(`error send ${(e as Error).message}`);
    }
  }
  sock.close();
}

async function tcpListen(port: number): Promise<void> {
  const server = net.createServer((conn) => {
    console.log(`accepted ${conn.remoteAddress}:${conn.remotePort}`);
    conn.end(`hello from ${conn.localAddress}:${conn.localPort}\n`);
    conn.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(port, "0.0.0.0", resolve));
  const addr = server.address();
  console.log(`listening ${typeof addr === "object" && addr ? addr.port : port}`);
}

async function tcpConnect(host: string, port: number, timeoutMs: number): Promise<number> {
  return await new Promise<number>((resolve) => {
    const conn = net.connect({ host, port });
    let data = "";
    const timer = setTimeout(() => {
      console.log("failed ETIMEDOUT");
      conn.destroy();
      resolve(1);
    }, timeoutMs);
    conn.on("data", (d) => {
      data += d.toString();
    });
    conn.on("end", () => {
      clearTimeout(timer);
      console.log(`connected ${data.trim()}`);
      resolve(0);
    });
    conn.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      console.log(`failed ${e.code ?? e.message}`);
      resolve(1);
    });
  });
}

async function udpRtt(host: string, port: number, count: number, intervalMs: number): Promise<void> {
  const sentAt = new Map<number, number>();
  const rtts: number[] = [];
  const sock = await Bun.udpSocket({
    hostname: "0.0.0.0",
    socket: {
      data(_s, buf) {
        const m = /^seen \S+ rtt (\d+)$/.exec(printable(buf));
        const t0 = m ? sentAt.get(Number(m[1])) : undefined;
        if (t0 === undefined) return;
        sentAt.delete(Number(m![1]));
        rtts.push(performance.now() - t0);
      },
      error() {
        // A refused probe is a lost probe; the summary counts it.
      },
    },
  });
  for (let seq = 0; seq < count; seq++) {
    sentAt.set(seq, performance.now());
    sock.send(`rtt ${seq}`, port, host);
    await Bun.sleep(intervalMs);
  }
  // A probe still unanswered after 1 s beyond the slowest answer seen is counted lost; the wait ends early
  // once every probe is answered.
  const lastSend = performance.now();
  const maxRtt = () => rtts.reduce((a, b) => Math.max(a, b), 0);
  while (sentAt.size > 0 && performance.now() - lastSend < maxRtt() + 1000) await Bun.sleep(10);
  sock.close();
  console.log(`result ${JSON.stringify(summariseRtt(count, rtts))}`);
}

function intArg(value: string | undefined, name: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`probe: ${name} "${value}" is not a non-negative integer`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, a, b, c, d] = argv;
  switch (cmd) {
    case "udp-echo":
      await udpEcho(intArg(a, "port", 0));
      return 0;
    case "udp-client":
      await udpClient(a ?? "", intArg(b, "port"));
      return 0;
    case "tcp-listen":
      await tcpListen(intArg(a, "port", 0));
      return await new Promise<number>(() => {});
    case "tcp-connect":
      return await tcpConnect(a ?? "", intArg(b, "port"), intArg(c, "timeout", 3000));
    case "udp-rtt":
      await udpRtt(a ?? "", intArg(b, "port"), intArg(c, "count"), intArg(d, "interval"));
      return 0;
    default:
      console.error(`probe: unknown command "${cmd}"`);
      return 2;
  }
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
