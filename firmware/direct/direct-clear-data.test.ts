/** @module Clear, authenticated DATA frames (TYPE_DATA_CLEAR): visible on the wire, yet tamper-, replay- and reorder-proof. */
import { describe, expect, test } from "bun:test";
import { randomBytes } from "../../crypto/random-token.ts";
import {
  dialOptions,
  framed,
  proxiedPair,
  reorderFrames,
  startKit,
  type startProxy,
} from "../../test/support/direct-test-kit.ts";
import { dialDirect } from "./direct-dial.ts";
import { isClearFrame } from "./direct-frame.ts";

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(needle) >= 0;
}

describe("clear DATA frames", () => {
  test("releaseData() frees a sealed DATA payload's own plaintext and leaves a clear one's buffer alone", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    await using caller = await dialDirect(dialOptions(kit.listener.port, t));
    const callee = await kit.nextAccepted();
    const payload = randomBytes(300_000);
    await caller.sendData(payload);
    await caller.sendData(payload, { clear: true });
    const sealed = await callee.receive();
    const clear = await callee.receive();
    if (sealed?.type !== "data" || clear?.type !== "data") throw new Error("expected two DATA messages");
    expect([sealed.clear === true, clear.clear === true]).toEqual([false, true]);
    callee.releaseData(clear.bytes);
    expect(Buffer.compare(clear.bytes, payload)).toBe(0);
    expect(Buffer.compare(sealed.bytes, payload)).toBe(0);
    callee.releaseData(sealed.bytes);
    expect([sealed.bytes.byteLength, (sealed.bytes.buffer as ArrayBuffer).detached]).toEqual([0, true]);
    // A second release, or one of bytes the connection never gave out, does nothing.
    callee.releaseData(sealed.bytes);
    callee.releaseData(payload);
    expect(payload.byteLength).toBe(300_000);
  });

  test("sendData({clear}) delivers the bytes, marked clear, and they are readable on the wire", async () => {
    await using p = await proxiedPair();
    const clearPart = randomBytes(1024 * 1024 + 333);
    const sealedPart = randomBytes(4000);
    await p.caller.send({ type: "offer", kind: "data", size: clearPart.length, name: "x" });
    await p.caller.sendData(clearPart, { clear: true });
    await p.caller.sendData(sealedPart);
    await p.caller.close();
    expect(await p.result).toBe("ended");
    const data = p.received.filter((m) => m.type === "data");
    expect(data.map((m) => m.type === "data" && m.clear === true)).toEqual([true, true, false]);
    const got = Buffer.concat(data.map((m) => (m.type === "data" ? m.bytes : new Uint8Array(0))));
    expect(Buffer.compare(got, Buffer.concat([clearPart, sealedPart]))).toBe(0);
    const wire = Buffer.concat(p.proxy.recorded);
    expect(contains(wire, clearPart.subarray(500_000, 500_064))).toBe(true);
    expect(contains(wire, sealedPart.subarray(1000, 1064))).toBe(false);
    // The tag costs 16 bytes per frame, like a sealed frame: the same accounting for both kinds.
    expect(p.caller.bytesSent).toBe(clearPart.length + sealedPart.length);
  });

  test("sendStream({clear}) sends every frame clear", async () => {
    const frames: boolean[] = [];
    await using p = await proxiedPair((_, s) => {
      frames.push(isClearFrame(s));
      return [framed(s)];
    });
    const payload = randomBytes(2 * 1024 * 1024 + 5);
    async function* source() {
      for (let at = 0; at < payload.length; at += 300_000) yield payload.subarray(at, at + 300_000);
    }
    expect(await p.caller.sendStream(source(), undefined, { clear: true })).toBe(payload.length);
    await p.caller.close();
    expect(await p.result).toBe("ended");
    // Frame 0 is the REQUEST, the last the CLOSE: sealed. The three DATA frames between are clear.
    expect(frames).toEqual([false, true, true, true, false]);
  });

  // Frame 0 is the REQUEST; frames 1..3 are the clear DATA frames the test sends.
  const attacks: Array<[string, Parameters<typeof startProxy>[1], string]> = [
    [
      "a flipped bit in the clear bytes",
      (i, s) => {
        if (i === 2) s[100] = (s[100] ?? 0) ^ 1;
        return [framed(s)];
      },
      "ERR_DIRECT_AUTH",
    ],
    [
      "a flipped bit in the tag",
      (i, s) => {
        if (i === 2) s[s.length - 1] = (s[s.length - 1] ?? 0) ^ 1;
        return [framed(s)];
      },
      "ERR_DIRECT_AUTH",
    ],
    ["a replayed clear frame", (i, s) => (i === 2 ? [framed(s), framed(s)] : [framed(s)]), "ERR_DIRECT_AUTH"],
    ["reordered clear frames", reorderFrames(), "ERR_DIRECT_AUTH"],
    ["a dropped clear frame", (i, s) => (i === 1 ? [] : [framed(s)]), "ERR_DIRECT_AUTH"],
    [
      "a clear frame passed off as sealed",
      (i, s) => [framed(s, i === 2 ? false : undefined)],
      "ERR_DIRECT_AUTH",
    ],
    [
      "a sealed frame passed off as clear",
      (i, s) => [framed(s, i === 3 ? true : undefined)],
      "ERR_DIRECT_AUTH",
    ],
    [
      "a clear frame's bytes swapped for other bytes of the same length",
      (i, s) => {
        if (i === 2) s.set(randomBytes(s.length - 16), 0);
        return [framed(s)];
      },
      "ERR_DIRECT_AUTH",
    ],
  ];
  for (const [what, onFrame, code] of attacks) {
    test(`closes the connection on ${what} with ${code}`, async () => {
      await using p = await proxiedPair(onFrame);
      const sends = (async () => {
        for (let i = 0; i < 3; i++) await p.caller.sendData(new Uint8Array(1000).fill(i), { clear: i < 2 });
      })();
      await sends.catch(() => {});
      expect(await p.result).toBe(code);
    });
  }
});
