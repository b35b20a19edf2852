/** @module Integration: relay and store-and-forward through the real node process (auth, sessions, data triggers), across a kill -9, on the filesystem and the S3 spool (`spool: s3://...`). */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { waitFor } from "../../demo/wait-for.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { outcomeOf } from "../support/api-outcome.ts";
import { makeDataDir, startNode } from "../support/control-node.ts";
import { DeviceAgent } from "../support/device-agent.ts";
import { SPOOL_BACKENDS, spoolBackend } from "../support/spool-backends.ts";

const CONFIG = { relayThresholdBytes: 1024 * 1024, relayQuotaBytes: 4 * 1024 * 1024, triggerDeadlineMs: 800 };

function payload(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function download(api: ControlClient, id: string): Promise<Uint8Array> {
  const res = await api.downloadData(id, 0);
  return new Uint8Array(await res.arrayBuffer());
}

describe.each(SPOOL_BACKENDS)("the node's relay with the %s spool", (kind) => {
  const spools = spoolBackend(kind);

  test("store-and-forward: busy callee, streamed upload, kill -9 mid-upload, resume, data trigger, download, ack", async () => {
    const config = { ...CONFIG, ...spools.nodeConfig() };
    const dataDir = makeDataDir();
    try {
      const data = payload(300_000, 5);
      let caller: { id: string; name: string; secret: string };
      let callee: { id: string; name: string; secret: string };
      let transferId: string;
      let sessionId: string;
      {
        await using node = await startNode({ dataDir, keepData: true, config });
        caller = await node.enroll("sf-caller");
        callee = await node.enroll("sf-callee");
        const a = node.client(caller);
        const b = node.client(callee);
        await b.updateAllowList({ create: ["sf-caller"] });
        await b.register("127.0.0.1", 7001);
        await using agent = await DeviceAgent.start(callee, node.udp);
        agent.answer = (t) => (t.kind === "status" ? "busy" : undefined);
        await agent.keepalive();
        const q = await a.query("sf-callee", { storeIfBusy: true });
        if (q.status !== 202) throw new Error("expected a store session");
        sessionId = q.session.id;
        expect(
          await outcomeOf(a.createTransfer({ session: sessionId, size: 2 * 1024 * 1024, kind: "store" })),
        ).toBe("413 transfer_too_large");
        expect(await outcomeOf(b.createTransfer({ session: sessionId, size: 10, kind: "store" }))).toMatch(
          /^403 /,
        );
        const t = await a.createTransfer({
          session: sessionId,
          size: data.byteLength,
          kind: "store",
          label: "rec.ts",
        });
        transferId = t.transfer.id;
        expect(await a.uploadData(transferId, 0, data.subarray(0, 100_000))).toEqual({ received: 100_000 });
        // Nothing half-written is delivered: the callee cannot read an incomplete stored transfer.
        expect(await outcomeOf(b.downloadData(transferId))).toBe("409 transfer_incomplete");
        // Start a second upload that stalls half-way, then kill -9 the node while it is open.
        let pulls = 0;
        const stalled = new ReadableStream<Uint8Array>({
          pull(ctrl) {
            pulls++;
            if (pulls === 1) ctrl.enqueue(data.slice(100_000, 150_000));
            else return new Promise(() => {}); // never more
          },
        });
        const pending = a.uploadData(transferId, 100_000, stalled).catch(() => "aborted");
        await waitFor("the stalled upload to be read", () => pulls >= 2, { timeoutMs: 3000 });
        await node.stop("SIGKILL");
        expect(await pending).toBe("aborted");
      }
      {
        await using node = await startNode({ dataDir, keepData: true, config });
        const a = node.client(caller);
        const b = node.client(callee);
        await using agent = await DeviceAgent.start(callee, node.udp);
        await agent.keepalive();
        // Acknowledged bytes survived; the unacknowledged tail is either durable or reported missing.
        const held = await a.transfer(transferId);
        expect(held.received).toBeGreaterThanOrEqual(100_000);
        expect(held.received).toBeLessThanOrEqual(150_000);
        expect(held.complete).toBe(false);
        expect(
          await outcomeOf(a.uploadData(transferId, held.received + 1, data.subarray(held.received + 1))),
        ).toBe("409 offset_mismatch");
        expect(await a.uploadData(transferId, held.received, data.subarray(held.received))).toEqual({
          received: data.byteLength,
        });
        const sha256 = createHash("sha256").update(data).digest("hex");
        expect((await a.completeTransfer(transferId, { size: data.byteLength, sha256 })).complete).toBe(true);
        await waitFor("data trigger", () => agent.triggers.some((t) => t.kind === "data"), {
          timeoutMs: 3000,
        });
        const [grant] = await b.pendingSessions();
        expect(grant).toMatchObject({
          id: sessionId,
          mode: "store",
          caller: { id: caller.id, name: "sf-caller" },
        });
        const inbox = await b.inbox();
        expect(JSON.stringify(inbox)).toContain(transferId);
        expect(await outcomeOf(a.downloadData(transferId))).toMatch(/^403 /);
        expect(Buffer.from(await download(b, transferId)).equals(Buffer.from(data))).toBe(true);
        // The operator's view of the spool counts what it holds, on disk or on S3 (from the index).
        expect((await node.admin.spool()).bytes).toBe(data.byteLength);
        await b.ackTransfer(transferId);
        expect(await node.admin.spool()).toEqual({ files: 0, bytes: 0 });
        expect(await outcomeOf(b.transfer(transferId))).toBe("404 transfer_not_found");
        const s = await node.admin.sessions();
        expect(s.find((x) => x.id === sessionId)?.bytesRelayNode).toBe(data.byteLength);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("live relay: the callee is triggered at once and follows the upload", async () => {
    const config = { ...CONFIG, ...spools.nodeConfig() };
    await using node = await startNode({ config });
    const caller = await node.enroll("lr-caller");
    const callee = await node.enroll("lr-callee");
    const a = node.client(caller);
    const b = node.client(callee);
    await b.updateAllowList({ create: ["lr-caller"] });
    await b.register("127.0.0.1", 7002);
    await using agent = await DeviceAgent.start(callee, node.udp);
    await agent.keepalive();
    const q = await a.query("lr-callee");
    if (q.status !== 200) throw new Error("expected a live session");
    const data = payload(200_000, 9);
    const t = await a.createTransfer({ session: q.session.id, size: data.byteLength, kind: "relay" });
    await waitFor(
      "data trigger",
      () => agent.triggers.some((x) => x.kind === "data" && x.ref.transfer === t.transfer.id),
      { timeoutMs: 3000 },
    );
    // The download starts once the first part is in (control/relay cannot yet follow a file that does not exist).
    await a.uploadData(t.transfer.id, 0, data.subarray(0, 80_000));
    const reading = download(b, t.transfer.id);
    await a.uploadData(t.transfer.id, 80_000, data.subarray(80_000));
    await a.completeTransfer(t.transfer.id, { size: data.byteLength });
    expect(Buffer.from(await reading).equals(Buffer.from(data))).toBe(true);
    // An unsigned body is accepted only on the data route, and only with a valid signature over the rest.
    const forged = await a.raw("PUT", `/v1/transfers/${t.transfer.id}/data?offset=0`, data.subarray(0, 10), {
      unsigned: true,
      headers: { "x-pvrlink-signature": "AAAA" },
    });
    expect(forged.status).toBe(401);
  });
});
