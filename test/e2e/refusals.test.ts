/** @module End to end, compiled binary: a refused send for each reason, and forged or replayed REQUESTs rejected by the callee. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { join } from "node:path";
import { randomToken } from "../../crypto/random-token.ts";
import type { Cluster } from "../../demo/cluster.ts";
import { encodePreamble } from "../../firmware/direct/direct-frame.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { libraryOf, sendToBob, startCluster } from "../support/e2e-stage.ts";
import { Tap } from "../support/recording-tap.ts";
import { summaryOf } from "../support/send-summary.ts";

const SAMPLE = join(ROOT, "testdata/es/mpeg2-gop12.m2v");
let cluster: Cluster;

beforeAll(async () => {
  // tcpProbe: the node checks the callee's direct port before it answers, so a stopped recorder is
  // callee_not_connected at once rather than after its keepalives age out.
  cluster = await startCluster({ nodeConfig: { tcpProbe: true } });
  await cluster.addRecorder("alice");
  await cluster.addRecorder("bob");
  await cluster.addRecorder("dave");
  for (const callee of ["bob", "dave"]) {
    await cluster.permit(callee, "alice");
  }
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

/** Sends the sample and returns exit code and summary. */
async function send(from: string, to: string, extra: string[] = []) {
  const run = await cluster.recorderRun(from, ["send", SAMPLE, "--to", to, "--json", ...extra]);
  return { code: run.code, summary: summaryOf(run.stdout), stderr: run.stderr };
}

describe("refused sends", () => {
  test("send exits 1 with permission_denied when the callee has not permitted the caller", async () => {
    const r = await send("bob", "alice");
    expect(r.code).toBe(1);
    expect(r.summary.code).toBe("permission_denied");
    expect(r.summary.mode).toBe("none");
  });

  test("send exits 1 with permission_denied, not callee_not_found, for a name no device has (no existence leak)", async () => {
    const r = await send("alice", `nobody-${randomToken(4)}`);
    expect(r.code).toBe(1);
    expect(r.summary.code).toBe("permission_denied");
  });

  test("send exits 1 with callee_not_found when the permitting callee never registered an address", async () => {
    const erin = await cluster.enroll("erin");
    await cluster.ok(["permit", "add", "alice", "--data", erin]);
    const r = await send("alice", "erin");
    expect(r.code).toBe(1);
    expect(r.summary.code).toBe("callee_not_found");
  });

  test("send exits 1 with callee_busy when the callee is busy and store-and-forward is not accepted", async () => {
    await cluster.ok(["recorder", "busy", "on", "--data", cluster.recorder("bob").dataDir]);
    try {
      const r = await send("alice", "bob");
      expect(r.code).toBe(1);
      expect(r.summary.code).toBe("callee_busy");
    } finally {
      await cluster.ok(["recorder", "busy", "off", "--data", cluster.recorder("bob").dataDir]);
    }
  });

  test("send exits 1 with callee_not_connected when the callee's recorder is down", async () => {
    await cluster.stopRecorder("dave");
    const r = await send("alice", "dave");
    expect(r.code).toBe(1);
    expect(r.summary.code).toBe("callee_not_connected");
  });
});

/** Opens a raw TCP connection, writes bytes, and reports what came back before the peer closed it. */
function raw(port: number, bytes: Uint8Array, timeoutMs = 12_000) {
  return new Promise<{ received: Buffer; closedByPeer: boolean }>((resolve) => {
    const got: Buffer[] = [];
    const s = connect({ host: "127.0.0.1", port }, () => s.write(bytes));
    const t = setTimeout(() => {
      s.destroy();
      resolve({ received: Buffer.concat(got), closedByPeer: false });
    }, timeoutMs);
    s.on("data", (d: Buffer) => got.push(d));
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(t);
      resolve({ received: Buffer.concat(got), closedByPeer: true });
    });
  });
}

describe("forged and replayed REQUESTs", () => {
  test("the callee rejects a byte-for-byte replay of a recorded REQUEST: nothing accepted, nothing filed", async () => {
    const bob = cluster.recorder("bob");
    await using tap = await Tap.start(bob.direct);
    const ok = await sendToBob(cluster, SAMPLE, ["--direct", `127.0.0.1:${tap.port}`]);
    expect(summaryOf(ok.stdout).ok).toBe(true);
    const before = (await libraryOf(cluster, "bob")).length;
    const mark = bob.proc.lines.length;
    const recorded = tap.upstream();
    // Preamble + sealed REQUEST, then the rest of the recorded session: exactly what an eavesdropper holds.
    const r = await raw(bob.direct.port, recorded);
    expect(r.closedByPeer).toBe(true);
    // At most a sealed DENIED frame (length + a short JSON + tag), never an ACCEPTED and no receipt.
    expect(r.received.length).toBeLessThan(80);
    // The callee logs why: the password was used (DENIED), or the session's ticket is gone (unknown session).
    await bob.proc.waitForLine(/DIRECT_DENIED|ERR_DIRECT_UNKNOWN_SESSION|password_used/, {
      timeoutMs: 5000,
      since: mark,
    });
    expect(bob.proc.lines.slice(mark).some((l) => l.includes("DIRECT_ACCEPTED"))).toBe(false);
    expect((await libraryOf(cluster, "bob")).length).toBe(before);
  });

  const forgeries: Array<[string, () => Uint8Array]> = [
    [
      "a REQUEST for an unknown session",
      () =>
        Buffer.concat([
          encodePreamble({ salt: new Uint8Array(16).fill(1), sessionId: `ses_${randomToken(16)}` }),
          Buffer.from([0, 0, 0, 40]),
          Buffer.alloc(40, 7),
        ]),
    ],
    ["garbage instead of a preamble", () => Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n")],
    [
      "a preamble with an oversize frame length",
      () =>
        Buffer.concat([
          encodePreamble({ salt: new Uint8Array(16), sessionId: "ses_forged" }),
          Buffer.from([0x7f, 0xff, 0xff, 0xff]),
        ]),
    ],
  ];
  for (const [what, bytes] of forgeries) {
    test(`the callee closes on ${what} without answering`, async () => {
      const r = await raw(cluster.recorder("bob").direct.port, bytes());
      expect(r.closedByPeer).toBe(true);
      expect(r.received.length).toBe(0);
    });
  }
});
