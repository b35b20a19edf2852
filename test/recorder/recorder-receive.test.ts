/** @module The daemon's receive pipeline over real sockets: split (relay + direct at once), secret via relay, fallback through the relay only, pattern mode (refusals: recorder-receive.refusals.test.ts). */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { PatternDirectEncoder } from "../../codec/pattern/pattern-direct-encoder.ts";
import { DEFAULT_PATTERN_SCHEME } from "../../codec/pattern/pattern-scheme.ts";
import { peekSplitHeaderLength } from "../../codec/split/split-format.ts";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { fromBase64url, randomBytes } from "../../crypto/random-token.ts";
import {
  RELAY_STREAM_DIRECT,
  RELAY_STREAM_PROTECTED,
  RELAY_STREAM_WHOLE,
} from "../../firmware/transfer/relay-stream.ts";
import { base, original, parts, receiveKit, sha } from "../support/receive-kit.ts";

const k = receiveKit();

describe("receiving through the daemon", () => {
  test("split: the protected part through the relay and the direct part on the channel, merged byte-exact", async () => {
    const s = await k.live();
    const protectedId = k.relayUpload(
      s,
      RELAY_STREAM_PROTECTED,
      { ...base, name: "film.mpg", kind: "split-protected", size: parts.protected.byteLength },
      parts.protected,
    );
    const conn = await k.dial(s);
    const transferId = await protectedId;
    await k.offer(conn, "split", "film.mpg", {
      secret: false,
      relay: { transferId, stream: 1 },
      directSize: parts.direct.byteLength,
    });
    await conn.sendData(parts.direct);
    await conn.send({ type: "end", size: parts.direct.byteLength, sha256: sha(parts.direct) });
    expect(await conn.receive()).toEqual({
      type: "receipt",
      ok: true,
      bytes: original.byteLength,
      sha256: base.sha256,
    });
    await conn.close();
    const got = (await k.listed("film.mpg"))!;
    expect(got.sender).toBe("alice");
    expect(sha(readFileSync(got.path))).toBe(base.sha256);
    await k.rec.log.waitForLine(/filed .*name=film\.mpg .*split=true/);
  }, 20_000);

  // A relay stream an OFFER names on a connection that agreed a forward-secret relay key is read under that key
  // only (crypto/ephemeral-agreement.ts): one sealed under the session's static relay key does not open.
  const secretCases = [
    { key: "the connection's forward-secret relay key", fs: true, ok: true },
    { key: "the session's static relay key", fs: false, ok: false },
  ];
  for (const c of secretCases) {
    test(`secret through the relay under ${c.key}: ${c.ok ? "filed, only OFFER/END/RECEIPT on the channel" : "RECEIPT decrypt_failed, nothing filed"}`, async () => {
      const s = await k.live();
      const conn = await k.dial(s);
      expect(conn.relayKey).toBeDefined();
      const name = `diary-${c.fs ? "fs" : "static"}.mpg`;
      const transferId = await k.relayUpload(
        s,
        RELAY_STREAM_WHOLE,
        { ...base, name, kind: "whole", size: original.byteLength, secret: true },
        original,
        c.fs ? conn.relayKey : undefined,
      );
      await k.offer(conn, "relay", name, { secret: true, relay: { transferId, stream: 3 } });
      await conn.send({ type: "end", size: original.byteLength, sha256: base.sha256 });
      const receipt = await conn.receive();
      await conn.close();
      if (c.ok) {
        expect(receipt).toMatchObject({ type: "receipt", ok: true, sha256: base.sha256 });
        expect(conn.bytesReceived + conn.bytesSent).toBe(0);
        expect(await k.listed(name)).toMatchObject({ secret: true, sha256: base.sha256 });
      } else {
        expect(receipt).toMatchObject({ type: "receipt", ok: false, code: "decrypt_failed" });
        expect(await k.listed(name)).toBeUndefined();
      }
    }, 20_000);
  }

  test("fallback: both parts through the relay with no direct connection, announced by data triggers only", async () => {
    const s = await k.live();
    const from = k.rec.log.mark();
    const direct = await k.relayUpload(
      s,
      RELAY_STREAM_DIRECT,
      { ...base, name: "fallback.mpg", kind: "split-direct", size: parts.direct.byteLength },
      parts.direct,
    );
    await k.relayUpload(
      s,
      RELAY_STREAM_PROTECTED,
      {
        ...base,
        name: "fallback.mpg",
        kind: "split-protected",
        size: parts.protected.byteLength,
        siblingTransferId: direct,
      },
      parts.protected,
    );
    await k.rec.log.waitForLine(/filed .*name=fallback\.mpg/, { since: from });
    expect((await k.listed("fallback.mpg"))?.sha256).toBe(base.sha256);
  }, 20_000);

  /** The direct part in pattern form, as a pattern-mode sender makes it (ranges inside the direct body). */
  async function patternDirect(key: Uint8Array): Promise<{ wire: Uint8Array; added: number }> {
    const patternPlan = {
      scheme: DEFAULT_PATTERN_SCHEME,
      ranges: [
        { offset: 100, length: 64 },
        { offset: 5000, length: 64 },
        { offset: 30_000, length: 64 },
      ],
    };
    const salt = randomBytes(16);
    const enc = new PatternDirectEncoder(patternPlan, salt, await makePatternKeystream(key, salt));
    const out = await enc.push(parts.direct.slice());
    enc.finish();
    return { wire: Buffer.concat(out), added: enc.addedBytes };
  }
  // damage(wire, patternHeaderAt, bodyAt)
  const patternCases: Array<
    [string, (w: Uint8Array, header: number, body: number) => void, string | undefined]
  > = [
    ["arrives decrypted and merged byte-exact", () => {}, undefined],
    [
      "with a flipped pattern-header byte fails integrity_failed",
      (w, h) => {
        w[h + 40]! ^= 1;
      },
      "integrity_failed",
    ],
    [
      "with a flipped encrypted byte fails integrity_failed",
      (w, _h, b) => {
        w[b + 110]! ^= 1;
      },
      "integrity_failed",
    ],
    [
      "with its pattern header cut off fails integrity_failed",
      (w, h, b) => w.copyWithin(h, b),
      "integrity_failed",
    ],
  ];
  for (const [what, damage, code] of patternCases) {
    test(`a pattern-mode split ${what}`, async () => {
      const s = await k.live();
      const name = `pattern-${Math.random().toString(36).slice(2, 8)}.mpg`;
      const transferId = await k.relayUpload(
        s,
        RELAY_STREAM_PROTECTED,
        { ...base, name, kind: "split-protected", size: parts.protected.byteLength },
        parts.protected,
      );
      const { wire, added } = await patternDirect(fromBase64url(s.key));
      const splitHeader = peekSplitHeaderLength(parts.direct) ?? 0;
      damage(wire, splitHeader, splitHeader + added);
      const conn = await k.dial(s);
      await k.offer(conn, "split", name, {
        secret: false,
        relay: { transferId, stream: 1 },
        directSize: wire.byteLength,
        protection: "pattern",
      });
      await conn.sendData(wire, { clear: true }).catch(() => {});
      await conn.send({ type: "end", size: original.byteLength, sha256: base.sha256 }).catch(() => {});
      const receipt = await conn.receive();
      await conn.close();
      if (code === undefined) {
        expect(receipt).toMatchObject({ type: "receipt", ok: true, sha256: base.sha256 });
        expect(sha(readFileSync((await k.listed(name))!.path))).toBe(base.sha256);
      } else {
        expect(receipt).toMatchObject({ type: "receipt", ok: false, code });
        expect(await k.listed(name)).toBeUndefined();
        await k.noTempFiles();
      }
    }, 20_000);
  }
});
