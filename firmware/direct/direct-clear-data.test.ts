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
  test("releaseData() frees a payload's buffer only when the payload owns it: sealed, or clear and copied out of several socket chunks", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    await using caller = await dialDirect(dialOptions(kit.listener.port, t));
    const callee = await kit.nextAccepted();
    const payload = randomBytes(300_000);
    // Over 1 MiB with its framing: Bun reads at most 512 KiB at a time, so the frame is copied out of chunks.
    const big = randomBytes(1024 * 1024);
    const small = [randomBytes(1000), randomBytes(1000)];
    await caller.sendData(payload);
    await caller.sendData(big, { clear: true });
    for (const b of small) await caller.sendData(b, { clear: true });
    const got = [];
    for (let i = 0; i < 4; i++) {
      const m = await callee.receive();
      if (m?.type !== "data") throw new Error("expected DATA");
      got.push(m);
    }
    const [sealed, copied, first, second] = got as [
      (typeof got)[0],
      (typeof got)[0],
      (typeof got)[0],
      (typeof got)[0],
    ];
    expect(got.map((m) => m.clear === true)).toEqual([false, true, true, true]);
    expect(Buffer.compare(sealed.bytes, payload)).toBe(0);
    expect(Buffer.compare(copied.bytes, big)).toBe(0);
    callee.releaseData(sealed.bytes);
    callee.releaseData(copied.bytes);
    expect([sealed.bytes.byteLength, copied.bytes.byteLength]).toEqual([0, 0]);
    // Two small clear frames most likely lie in one socket chunk: releasing the first must leave the second whole.
    callee.releaseData(first.bytes);
    expect(Buffer.compare(second.bytes, small[1]!)).toBe(0);
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
