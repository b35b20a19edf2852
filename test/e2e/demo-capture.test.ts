/** @module End to end, compiled binary: a tcpdump capture of every loopback packet during `pvrlink demo` holds no readable password, key, secret or byte of the recording (issue 13, done-when 1). */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChildProcess } from "../../demo/child-process.ts";
import { compiledBinary, ROOT } from "../support/compiled-binary.ts";
import { readPcapFlows } from "../support/pcap-flows.ts";

const SAMPLE = join(ROOT, "testdata/containers/ps-mpeg2.mpg");
const dir = mkdtempSync(join(tmpdir(), "pvrlink-capture-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the issue found readable on the wire before TLS: JSON fields that carry secrets, and PEM keys. */
const SECRET_MARKERS = ['"password"', '"calleePassword"', '"key"', '"secret"', '"privateKey"', "PRIVATE KEY"];
/** A TLS handshake record (RFC 8446 5.1: content type 22, legacy version 0x0301 or 0x0303). */
const TLS_HANDSHAKE = [Buffer.from([0x16, 0x03, 0x01]), Buffer.from([0x16, 0x03, 0x03])];

/** 16-byte windows spread over the recording, with at least 12 distinct byte values (no stuffing or zero runs). */
function varied(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + size <= bytes.byteLength; at += Math.floor(bytes.byteLength / 64)) {
    const w = bytes.subarray(at, at + size);
    if (new Set(w).size >= 12) out.push(w);
  }
  return out;
}

test("a capture of every loopback packet during pvrlink demo holds no password, key, secret or recording byte", async () => {
  const binary = compiledBinary("The demo capture test");
  const pcap = join(dir, "demo.pcap");
  // -U: each packet written as it comes; -B: a 64 MiB kernel buffer so nothing is dropped; -Z root: keep
  // writing into this root-owned directory instead of dropping to the tcpdump user.
  await using tcpdump = new ChildProcess("tcpdump", [
    "tcpdump",
    "-i",
    "lo",
    "-U",
    "-B",
    "65536",
    "-s",
    "0",
    "-Z",
    "root",
    "-w",
    pcap,
  ]);
  await tcpdump.waitForLine(/listening on lo/, { timeoutMs: 15_000 });
  await using demo = new ChildProcess("demo", [binary, "demo"]);
  expect(await demo.exited).toBe(0);
  tcpdump.proc.kill("SIGINT");
  await tcpdump.exited;
  const dropped = tcpdump.errLines.find((l) => /packets dropped by kernel/.test(l));
  expect(dropped).toMatch(/^0 packets dropped by kernel/);

  const flows = readPcapFlows(readFileSync(pcap));
  const tcp = flows.filter((f) => f.protocol === "tcp");
  const udp = flows.filter((f) => f.protocol === "udp");
  // The capture saw the demo: its recorders' keepalives name them in clear (STUN USERNAME, no secret), and
  // the node's HTTPS connections open with TLS handshakes.
  const ids = demo.outLines.flatMap((l) => /^(alice|bob): device (\S+),/.exec(l)?.[2] ?? []);
  expect(ids.length).toBe(2);
  for (const id of ids) expect(udp.some((f) => f.payload.includes(id))).toBe(true);
  expect(
    tcp.filter((f) => TLS_HANDSHAKE.some((h) => f.payload.subarray(0, 3).equals(h))).length,
  ).toBeGreaterThan(2);
  const bytes = tcp.reduce((n, f) => n + f.payload.byteLength, 0);
  const sample = readFileSync(SAMPLE);
  expect(bytes).toBeGreaterThan(2 * sample.byteLength); // a split send and a stored one, at least

  const wire = flows.map((f) => f.payload);
  const found = SECRET_MARKERS.filter((m) => wire.some((p) => p.includes(m)));
  expect(found).toEqual([]);
  // Nothing of the recording: not its I-pictures (sealed through the node), not its P/B pictures (the direct
  // channel seals by default), not the stored copy.
  const windows = varied(sample, 16);
  expect(windows.length).toBeGreaterThanOrEqual(24);
  expect(windows.filter((w) => wire.some((p) => p.includes(w)))).toEqual([]);
}, 120_000);
