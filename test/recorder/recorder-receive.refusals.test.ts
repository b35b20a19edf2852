/** @module The daemon's receive pipeline refusing over real sockets: a relay part sealed for another session, a forced end, clear data where sealed was promised. */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../../demo/wait-for.ts";
import type { DirectConnection } from "../../firmware/direct/direct-connection.ts";
import { DirectChannelError } from "../../firmware/direct/direct-error.ts";
import {
  RELAY_STREAM_PROTECTED,
  RELAY_STREAM_WHOLE,
  type RelayManifest,
} from "../../firmware/transfer/relay-stream.ts";
import { relayStreamSize } from "../../firmware/transfer/relay-stream-encoder.ts";
import { base, original, parts, receiveKit } from "../support/receive-kit.ts";

const k = receiveKit();

describe("receiving through the daemon: refusals", () => {
  test("a split whose relay part is sealed for another session fails: RECEIPT not ok, nothing filed", async () => {
    const s = await k.live();
    const other = await k.live();
    const transferId = await k.relayUpload(
      other,
      RELAY_STREAM_PROTECTED,
      { ...base, name: "spliced.mpg", kind: "split-protected", size: parts.protected.byteLength },
      parts.protected,
    );
    const conn = await k.dial(s);
    await k.offer(conn, "split", "spliced.mpg", { secret: false, relay: { transferId, stream: 1 } });
    await conn.sendData(parts.direct).catch(() => {});
    await conn.send({ type: "end" }).catch(() => {});
    const receipt = await conn.receive();
    expect(receipt).toMatchObject({ type: "receipt", ok: false });
    await conn.close();
    expect(await k.listed("spliced.mpg")).toBeUndefined();
    // The other session's protected part is a valid half split for that session and waits for its direct half;
    // ending that session drops it and its temp file.
    const from = k.rec.log.mark();
    await k.node.admin.endSession(other.id, "operator");
    await k.rec.log.waitForLine(new RegExp(`session-work-ended session=${other.id}`), { since: from });
    await k.noTempFiles();
  }, 20_000);

  test("a forced end mid-transfer closes the channel with 'ended' and leaves no temp file", async () => {
    const s = await k.live();
    const conn = await k.dial(s);
    await conn.send({
      type: "offer",
      kind: "data",
      size: 1_000_000,
      name: "cut.bin",
      meta: { sha256: "0".repeat(64), recordingType: "data", secret: false },
    });
    await conn.sendData(new Uint8Array(100_000));
    const from = k.rec.log.mark();
    await k.rec.log.waitForLine(/offer session=\S+ kind=data name=cut\.bin/);
    await k.node.admin.endSession(s.id, "operator");
    await k.rec.log.waitForLine(new RegExp(`session-ended session=${s.id} reason=operator`), { since: from });
    const err = await conn.receive().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DirectChannelError);
    expect((err as DirectChannelError).code).toBe("ERR_DIRECT_CLOSED");
    expect(await k.listed("cut.bin")).toBeUndefined();
    // The cut receive is fsynced and moved to DATA/partials (kept for a resume) as the channel closes, so the
    // temp file goes a moment after the close: waited for, not raced.
    await waitFor("the temp file moved out of .incoming", () =>
      readdirSync(join(k.rec.dataDir, "library", ".incoming")).length === 0 ? true : undefined,
    );
  }, 20_000);

  // The fourth field: the OFFER's secrecy and protection; a secret OFFER unless it says otherwise.
  type OfferPromise = { secret: boolean; protection?: string };
  const refusals: Array<
    [string, "relay" | "data" | "split", (c: DirectConnection) => Promise<void>, OfferPromise?]
  > = [
    [
      "a clear DATA frame under a relay (secret) OFFER",
      "relay",
      (c) => c.sendData(original, { clear: true }),
    ],
    [
      "a sealed DATA frame under a relay (secret) OFFER",
      "relay",
      (c) => c.sendData(original.subarray(0, 4096)),
    ],
    ["a data OFFER for a secret recording", "data", (c) => c.sendData(original, { clear: true })],
    ["a split OFFER for a secret recording", "split", (c) => c.sendData(parts.direct, { clear: true })],
    [
      "a clear DATA frame under a sealed data OFFER",
      "data",
      (c) => c.sendData(original, { clear: true }),
      { secret: false, protection: "sealed" },
    ],
    [
      "a clear DATA frame under a sealed split OFFER",
      "split",
      (c) => c.sendData(parts.direct, { clear: true }),
      { secret: false, protection: "sealed" },
    ],
  ];
  for (const [what, kind, sendBytes, promise = { secret: true }] of refusals) {
    test(`the callee refuses ${what}: RECEIPT clear_data_refused, nothing filed, no temp file`, async () => {
      const s = await k.live();
      const name = `leak-${kind}-${Math.random().toString(36).slice(2, 8)}.mpg`;
      // As a sender would: the relay transfer is created before the OFFER names it and uploaded after; the
      // legitimate sealed copy must not be filed after the refusal either.
      const manifest: RelayManifest =
        kind === "split"
          ? {
              ...base,
              name,
              kind: "split-protected",
              size: parts.protected.byteLength,
              secret: promise.secret,
            }
          : { ...base, name, kind: "whole", size: original.byteLength, secret: promise.secret };
      const t = await k.alice.createTransfer({
        session: s.id,
        size: relayStreamSize(manifest),
        kind: "relay",
      });
      const transferId = t.transfer.id;
      const conn = await k.dial(s);
      await conn.send({
        type: "offer",
        kind,
        size: original.byteLength,
        name,
        meta: {
          sha256: base.sha256,
          recordingType: "ps",
          ...promise,
          relay: { transferId, stream: kind === "split" ? 1 : 3 },
        },
      });
      await sendBytes(conn).catch(() => {});
      await conn.send({ type: "end", size: original.byteLength, sha256: base.sha256 }).catch(() => {});
      expect(await conn.receive()).toMatchObject({ type: "receipt", ok: false, code: "clear_data_refused" });
      await conn.close();
      const body = await k.relayBody(
        s,
        kind === "split" ? RELAY_STREAM_PROTECTED : RELAY_STREAM_WHOLE,
        manifest,
        kind === "split" ? parts.protected : original,
      );
      await k.alice.uploadData(transferId, 0, body).catch(() => {});
      await k.alice.completeTransfer(transferId, { size: body.byteLength }).catch(() => {});
      await k.rec.log.waitForLine(new RegExp(`receive-failed session=${s.id} code=clear_data_refused`));
      // A download that was not stopped would hold a temp file until it is filed: once none is left, look.
      await k.noTempFiles();
      expect(await k.listed(name)).toBeUndefined();
    }, 20_000);
  }
});
