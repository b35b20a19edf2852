/** @module A transfer's payload bytes, from either channel, as the async iterables that filing and merging consume. */
import { PatternDirectDecoder } from "../../codec/pattern/pattern-direct-decoder.ts";
import { splitOffsetsAt } from "../../codec/split/split-offsets.ts";
import { makeCbcsTransform } from "../../crypto/cbcs-cipher.ts";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { releaseBuffer } from "../../runtime/release-buffer.ts";
import type { DirectMessage } from "../direct/direct-message.ts";
import { headerSpillFile } from "../files/header-spill-file.ts";
import type { RelayManifest, RelayRecord } from "../transfer/relay-stream.ts";
import { ReceiveFailure } from "./receive-failure.ts";

/**
 * DATA frames up to END on a direct connection after its OFFER; anything else there is a protocol error. Under a
 * sealed OFFER (`sealedOnly`) a clear frame is refused: the sender promised the path would see none.
 */
export async function* directPayload(
  messages: AsyncIterator<DirectMessage, void, undefined>,
  onBytes: (n: number) => void,
  opts: { sealedOnly?: boolean } = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  for (;;) {
    const r = await messages.next();
    if (r.done) throw new ReceiveFailure("truncated", "Direct channel closed before END");
    const m = r.value;
    if (m.type === "data") {
      if (m.clear === true && opts.sealedOnly === true)
        throw new ReceiveFailure(
          "clear_data_refused",
          "Refused a clear DATA frame under a sealed OFFER: the sender promised every frame sealed",
        );
      onBytes(m.bytes.byteLength);
      yield m.bytes;
    } else if (m.type === "end") return;
    else throw new ReceiveFailure("protocol_error", `Unexpected ${m.type} during payload`);
  }
}

/**
 * Reads a relay transfer's MANIFEST, which must come first, and hands back its DATA records' bytes as a
 * separate iterable so the caller can choose where they go (whole file or split assembly) from the manifest.
 * `release(bytes)`: frees a DATA body once its consumer is done with it (SplitAssembly.feed's `release`).
 */
export async function relayPayload(
  records: AsyncIterator<RelayRecord, unknown, undefined>,
  transferId: string,
): Promise<{
  manifest: RelayManifest;
  data(onBytes: (n: number) => void): AsyncIterable<Uint8Array>;
  release(bytes: Uint8Array): boolean;
}> {
  const first = await records.next();
  if (first.done || first.value.type !== "manifest") {
    throw new ReceiveFailure("protocol_error", `Relay transfer ${transferId} has no manifest`);
  }
  return {
    manifest: first.value.manifest,
    async *data(onBytes) {
      for (;;) {
        const r = await records.next();
        if (r.done) return;
        if (r.value.type === "data") {
          onBytes(r.value.bytes.byteLength);
          yield r.value.bytes;
        }
      }
    },
    release: releaseRecordBody,
  };
}

/**
 * A DATA body is the opened record after its type byte: a view at offset 1 of a plaintext WebCrypto made for
 * it alone, which nothing else holds once its consumer is done. Freed at once, it does not wait for a full
 * collection. Returns whether it was freed (anything else is left alone).
 */
function releaseRecordBody(bytes: Uint8Array): boolean {
  const buffer = bytes.buffer;
  if (
    !(buffer instanceof ArrayBuffer) ||
    bytes.byteOffset !== 1 ||
    buffer.byteLength !== bytes.byteLength + 1
  )
    return false;
  return releaseBuffer(new Uint8Array(buffer));
}

/**
 * The direct part of a pattern-mode split as it came off the channel, given back plain for the merger: the
 * pattern header is checked against the split header and dropped, the P/B slice ranges decrypted in place.
 * `resumedAt`: a resumed send, the receiver holding the original's first bytes up to there. `release`: called
 * with each frame the decoder has copied out and handed nothing on from (the headers' frames: the pattern
 * header grows with the recording, ~3.3 MB a GiB of SD video), so its memory goes back before the next
 * collection; a body frame is handed on itself, for the merger's feeder to release. `spillDir`: a version 3/4
 * header goes to a temp file there (headerSpillFile()) instead of memory, removed when the part ends, well or not.
 */
export async function* patternDecoded(
  source: AsyncIterable<Uint8Array>,
  sessionKey: Uint8Array,
  o: { resumedAt?: number; release?: (frame: Uint8Array) => void; spillDir?: string } = {},
) {
  const spillDir = o.spillDir;
  const resumedAt = o.resumedAt ?? 0;
  // A resumed split's direct body starts where the held prefix of the original ends (splitOffsetsAt).
  const dec = new PatternDirectDecoder((salt) => makePatternKeystream(sessionKey, salt), {
    cbcsFor: (salt) => makeCbcsTransform(sessionKey, salt, "decrypt"),
    bodyFrom: (split) =>
      resumedAt === 0 ? 0 : splitOffsetsAt(split.ranges, split.originalLength, resumedAt).direct,
    ...(spillDir === undefined ? {} : { spill: () => headerSpillFile(spillDir) }),
  });
  // finally: also when the consumer stops early (return()) or a push throws.
  try {
    for await (const bytes of source) {
      const out = await dec.push(bytes);
      if (o.release !== undefined && out.every((v) => v.buffer !== bytes.buffer)) o.release(bytes);
      yield* out;
    }
    dec.finish();
  } finally {
    dec.close();
  }
}
