/** @module holePunch() on loopback: confirmation both ways, the fingerprint learned, strangers ignored, the deadline. */
import { describe, expect, test } from "bun:test";
import { createSocket, type Socket } from "node:dgram";
import { encodePunchProbe, punchKey } from "../../protocol/punch-probe.ts";
import { DirectChannelError } from "./direct-error.ts";
import { holePunch } from "./hole-punch.ts";

const FP = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, "0").toUpperCase()).join(":");

async function udp(): Promise<Socket & AsyncDisposable> {
  const s = createSocket("udp4") as Socket & AsyncDisposable;
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  s[Symbol.asyncDispose] = () => new Promise<void>((r) => s.close(() => r()));
  return s;
}
const at = (s: Socket) => ({ address: "127.0.0.1", port: s.address().port, via: "mapping" as const });

describe("holePunch()", () => {
  test("holePunch() confirms both ways; the caller learns the callee's fingerprint", async () => {
    await using a = await udp();
    await using b = await udp();
    const key = punchKey(new Uint8Array(32).fill(5));
    const [caller, callee] = await Promise.all([
      holePunch({ socket: a, role: "caller", sessionId: "ses_1", key, candidates: [at(b)] }),
      holePunch({ socket: b, role: "callee", sessionId: "ses_1", key, candidates: [at(a)], fingerprint: FP }),
    ]);
    expect(caller.remote).toEqual(at(b));
    expect(caller.peerFingerprint).toBe(FP);
    expect(callee.remote).toEqual(at(a));
    expect(callee.peerFingerprint).toBeUndefined();
    expect(caller.elapsedMs).toBeLessThan(1000);
  });

  test("holePunch() uses the first candidate that answers (a dead LAN address is skipped)", async () => {
    await using a = await udp();
    await using b = await udp();
    await using dead = await udp();
    const key = punchKey(new Uint8Array(32).fill(6));
    const lanDead = { ...at(dead), via: "lan" as const };
    const [caller] = await Promise.all([
      holePunch({ socket: a, role: "caller", sessionId: "s", key, candidates: [lanDead, at(b)] }),
      holePunch({ socket: b, role: "callee", sessionId: "s", key, candidates: [at(a)], fingerprint: FP }),
    ]);
    expect(caller.remote.via).toBe("mapping");
  });

  const failing: Array<[string, (peer: Socket, key: Uint8Array) => void]> = [
    ["a silent peer", () => {}],
    [
      "a stranger answering with probes under another key",
      (peer, _key) => {
        peer.on("message", (_m, r) => {
          const wrong = punchKey(new Uint8Array(32).fill(99));
          const p = { role: "callee" as const, nonce: new Uint8Array(16), fingerprint: new Uint8Array(32) };
          peer.send(encodePunchProbe({ ...p, kind: "probe" }, wrong, "ses_1"), r.port, r.address);
        });
      },
    ],
    [
      "an echo reflecting the caller's own probes",
      (peer) => peer.on("message", (m, r) => peer.send(m, r.port, r.address)),
    ],
  ];
  for (const [what, behave] of failing) {
    test(`holePunch() fails with ERR_DIRECT_PUNCH at the deadline against ${what}`, async () => {
      await using a = await udp();
      await using b = await udp();
      const key = punchKey(new Uint8Array(32).fill(8));
      behave(b, key);
      const started = performance.now();
      const err = await holePunch({
        socket: a,
        role: "caller",
        sessionId: "ses_1",
        key,
        candidates: [at(b)],
        deadlineMs: 400,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectChannelError);
      expect((err as DirectChannelError).code).toBe("ERR_DIRECT_PUNCH");
      expect(performance.now() - started).toBeLessThan(1500);
    });
  }
});
