/** @module readRelayRecords() following a live transfer whose uploader went away: past the default 20 idle windows when told to, until its deadline, and on to the end when the uploader comes back. */
import { afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { randomBytes, toBase64url } from "../../crypto/random-token.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { RELAY_STREAM_WHOLE, relayKey } from "../transfer/relay-stream.ts";
import { RelayStreamEncoder } from "../transfer/relay-stream-encoder.ts";
import { readRelayRecords } from "./relay-reader.ts";

const SESSION = "ses_follow";
const sessionKey = randomBytes(32);
const payload = randomBytes(300_000);

/** The sealed stream a sender uploads: MANIFEST, DATA, END. */
async function sealedStream(): Promise<Buffer> {
  const enc = new RelayStreamEncoder(await relayKey(sessionKey), SESSION, RELAY_STREAM_WHOLE);
  const parts = [
    await enc.manifest({
      name: "x.bin",
      kind: "whole",
      size: payload.byteLength,
      originalSize: payload.byteLength,
      sha256: createHash("sha256").update(payload).digest("hex"),
      recordingType: "data",
      secret: false,
      sender: "alice",
    }),
    ...(await enc.data(payload)),
    ...(await enc.end()),
  ];
  return Buffer.concat(parts);
}

/**
 * The node's two answers a follower sees, on a real socket: GET .../data answers what is held past the offset
 * and ends (as the node's follow ends after its idle window), GET /v1/transfers/:id how much it holds. The node
 * holds `held` bytes (a sender killed mid-upload); `comeBackAfter` downloads later it holds all of them.
 */
function fakeNode(stream: Buffer, o: { held: number; comeBackAfter: number }) {
  let downloads = 0;
  const holds = () => (downloads > o.comeBackAfter ? stream.byteLength : o.held);
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const url = new URL(req.url);
      if (url.pathname.endsWith("/data")) {
        downloads++;
        const from = Number(url.searchParams.get("offset") ?? 0);
        return new Response(stream.subarray(from, Math.max(from, holds())));
      }
      const complete = holds() === stream.byteLength;
      return Response.json({ id: "tr_f", received: holds(), complete, size: stream.byteLength });
    },
  });
  return { server, downloads: () => downloads };
}

let stop: (() => void) | undefined;
afterEach(() => stop?.());

function follow(port: number, o: { maxResumes?: number; deadline?: () => number }) {
  const client = new ControlClient({
    baseUrl: `http://127.0.0.1:${port}`,
    deviceId: "dev_bob",
    secret: toBase64url(randomBytes(32)),
  });
  return readRelayRecords({
    client,
    transferId: "tr_f",
    sessionId: SESSION,
    sessionKey,
    stream: RELAY_STREAM_WHOLE,
    ...o,
  });
}

async function drain(
  records: ReturnType<typeof follow>,
): Promise<{ bytes: number; err?: { code?: string } }> {
  let bytes = 0;
  try {
    for await (const r of records) if (r.type === "data") bytes += r.bytes.byteLength;
    return { bytes };
  } catch (err) {
    return { bytes, err: err as { code?: string } };
  }
}

describe("readRelayRecords() following an uploader that went away", () => {
  test("readRelayRecords() gives up after 20 idle windows by default (ERR_RELAY_TRUNCATED)", async () => {
    const stream = await sealedStream();
    const node = fakeNode(stream, { held: 100_000, comeBackAfter: Number.POSITIVE_INFINITY });
    stop = () => node.server.stop(true);
    const r = await drain(follow(node.server.port!, {}));
    expect(r.err?.code).toBe("ERR_RELAY_TRUNCATED");
    expect(node.downloads()).toBe(22);
  });

  test("readRelayRecords() with maxResumes Infinity follows past 20 idle windows and stops at its deadline", async () => {
    const stream = await sealedStream();
    const node = fakeNode(stream, { held: 100_000, comeBackAfter: Number.POSITIVE_INFINITY });
    stop = () => node.server.stop(true);
    const t0 = Date.now();
    const r = await drain(follow(node.server.port!, { maxResumes: Infinity, deadline: () => t0 + 1000 }));
    expect(r.err?.code).toBe("ERR_RELAY_TRUNCATED");
    expect(node.downloads()).toBeGreaterThan(22);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  });

  test("readRelayRecords() with maxResumes Infinity reads the whole stream once the uploader comes back after 40 idle windows", async () => {
    const stream = await sealedStream();
    const node = fakeNode(stream, { held: 100_000, comeBackAfter: 41 });
    stop = () => node.server.stop(true);
    const r = await drain(
      follow(node.server.port!, { maxResumes: Infinity, deadline: () => Date.now() + 60_000 }),
    );
    expect(r).toEqual({ bytes: payload.byteLength });
  });
});
