/** @module A tiny authoritative DNS responder on UDP (RFC 1035 4.1) for tests: A records from a table, NXDOMAIN for the rest. */
import { createSocket, type Socket } from "node:dgram";

/** RFC 1035 3.2.2 / RFC 3596 2.1 record types. */
const TYPE_A = 1;
const CLASS_IN = 1;
/** RFC 1035 4.1.1 RCODE values. */
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;
const HEADER_BYTES = 12;

/** Reads the question's name (uncompressed labels) at 12; returns it lower-cased and the offset after it. */
function readQuestionName(q: Buffer): { name: string; end: number } | null {
  const labels: string[] = [];
  let at = HEADER_BYTES;
  while (at < q.length) {
    const len = q[at]!;
    if (len === 0) return { name: labels.join(".").toLowerCase(), end: at + 1 };
    if (len > 63 || at + 1 + len > q.length) return null;
    labels.push(q.subarray(at + 1, at + 1 + len).toString("latin1"));
    at += 1 + len;
  }
  return null;
}

/** The answer to one query datagram, or null for one too broken to answer. */
export function answerQuery(q: Buffer, records: ReadonlyMap<string, string[]>): Buffer | null {
  if (q.length < HEADER_BYTES) return null;
  const question = readQuestionName(q);
  const rd = q[2]! & 0x01;
  const header = (rcode: number, answers: number, qEnd: number) => {
    const h = Buffer.alloc(HEADER_BYTES);
    q.copy(h, 0, 0, 2); // id
    h[2] = 0x84 | rd; // QR, AA, RD as asked
    h[3] = rcode;
    h.writeUInt16BE(qEnd > HEADER_BYTES ? 1 : 0, 4);
    h.writeUInt16BE(answers, 6);
    return h;
  };
  if (!question || question.end + 4 > q.length) return header(RCODE_FORMERR, 0, HEADER_BYTES);
  const qtype = q.readUInt16BE(question.end);
  const qEnd = question.end + 4;
  const known = records.get(question.name);
  if (!known) return Buffer.concat([header(RCODE_NXDOMAIN, 0, qEnd), q.subarray(HEADER_BYTES, qEnd)]);
  const v4 = qtype === TYPE_A ? known.filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a)) : [];
  const answers = v4.map((a) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc000 | HEADER_BYTES, 0); // pointer to the question's name
    rr.writeUInt16BE(TYPE_A, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(5, 6); // TTL
    rr.writeUInt16BE(4, 10);
    a.split(".").forEach((o, i) => {
      rr[12 + i] = Number(o);
    });
    return rr;
  });
  // A name with no record of the asked type (e.g. AAAA here) is NOERROR with no answers (RFC 2308 2.2).
  return Buffer.concat([header(0, answers.length, qEnd), q.subarray(HEADER_BYTES, qEnd), ...answers]);
}

/** A responder bound to 127.0.0.1 port 0; `server` is what the node's `dnsServer` takes. */
export class DnsResponder implements AsyncDisposable {
  readonly queries: string[] = [];
  private constructor(
    readonly socket: Socket,
    readonly records: Map<string, string[]>,
  ) {}

  static async start(
    records: Record<string, string[]>,
    port = 0,
    onQuery: (name: string) => void = () => {},
  ): Promise<DnsResponder> {
    const socket = createSocket("udp4");
    const r = new DnsResponder(socket, new Map(Object.entries(records)));
    socket.on("message", (msg, from) => {
      const name = readQuestionName(msg);
      if (name) {
        r.queries.push(name.name);
        onQuery(name.name);
      }
      const answer = answerQuery(msg, r.records);
      if (answer) socket.send(answer, from.port, from.address);
    });
    await new Promise<void>((resolve) => socket.bind(port, "127.0.0.1", resolve));
    return r;
  }

  get server(): string {
    return `127.0.0.1:${this.socket.address().port}`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

/** As a process (e.g. inside a net-bed namespace): `bun dns-responder.ts PORT NAME=IP...`; prints "listening PORT". */
if (import.meta.main) {
  const [port = "0", ...pairs] = process.argv.slice(2);
  const records: Record<string, string[]> = {};
  for (const p of pairs) {
    const [name = "", ip = ""] = p.split("=");
    records[name.toLowerCase()] = [...(records[name.toLowerCase()] ?? []), ip];
  }
  const r = await DnsResponder.start(records, Number(port), (name) => console.log(`query ${name}`));
  console.log(`listening ${r.socket.address().port}`);
}
