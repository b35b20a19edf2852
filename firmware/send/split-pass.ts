/** @module Pass 2 of a split send: one read of the file, protected pieces sealed into the relay upload(s), direct pieces to the channel (pattern-encrypted in pattern mode). */
import type { HeaderSpill } from "../../codec/pattern/header-spill.ts";
import { PatternDirectEncoder } from "../../codec/pattern/pattern-direct-encoder.ts";
import type { PatternPlan } from "../../codec/pattern/pattern-planner.ts";
import { RangeRouter } from "../../codec/split/range-router.ts";
import { splitOffsetsAt } from "../../codec/split/split-offsets.ts";
import { makeCbcsTransform } from "../../crypto/cbcs-cipher.ts";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { randomBytes } from "../../crypto/random-token.ts";
import { HeapPacer, PACE_BYTES } from "../../runtime/heap-pacer.ts";
import { DataFrameBatcher } from "../direct/data-frame-batcher.ts";
import { openInput, readChunks, SEND_CHUNK_BYTES } from "../files/recording-file.ts";
import { PrefixSkip } from "./prefix-skip.ts";
import type { RelayPart } from "./relay-upload.ts";
import type { SendContext } from "./send-context.ts";
import { SendFailure } from "./send-failure.ts";

/**
 * Pass 2 of a split: one read of the file; each chunk is routed, the protected pieces sealed into the relay
 * upload(s) (ctx.live) and the direct pieces sent as DATA on ctx.conn (sealed, or clear in a light mode), so both channels are fed at once and
 * each applies its own backpressure. A relay upload that breaks (node restart) only stops receiving bytes here;
 * LiveRelay.complete() resumes it afterwards from the node's offset.
 */
export async function splitPass(ctx: SendContext, pattern?: PatternDirectEncoder): Promise<void> {
  const { plan, conn, live, result, options: o } = ctx;
  const signal = ctx.abort.signal;
  const split = plan.split;
  if (!split) throw new TypeError("Cannot run a split pass without a split plan");
  const clear = !plan.sealDirect && !ctx.sealInstead;
  const writer = conn ? new DataFrameBatcher((m) => conn.send(m), clear) : undefined;
  // A resumed send (live-resume.ts): each part's body bytes that make up the prefix the callee holds are left
  // out; the file is still read whole, since the ranges (and pattern mode's keystream) are positions in it.
  const held = splitOffsetsAt(split.ranges, plan.size, ctx.resume?.held ?? 0);
  // A pattern encoder leaves the held body bytes out itself: its output interleaves version 5's segments, which
  // always go, with the body.
  pattern?.leaveOut(held.direct);
  const skip = {
    protected: new PrefixSkip(held.protected),
    direct: new PrefixSkip(pattern ? 0 : held.direct),
  };
  // Pattern mode: each direct piece (a view of this pass's own read buffer, which nothing reads again) is
  // encrypted in place and the pattern header goes in after the split header.
  const direct = writer && {
    /** The split header (and, in pattern mode, the pattern header the encoder adds after it). */
    header: async (bytes: Uint8Array) => {
      if (!pattern) return writer.write(bytes);
      // pushPieces(): a version 3/4 header is read from its spill as each piece is sent, never whole (issue 14);
      // `reuse`, since writer.write() copies each piece into its frame before it resolves.
      for (const out of pattern.pushPieces(bytes, { reuse: true })) await writer.write(out);
    },
    /**
     * A read's body pieces: encrypted in pattern mode first (positional; the pieces of one read go to the cipher
     * together, pushMany()), then the held prefix left out (by the encoder in pattern mode).
     */
    write: async (pieces: readonly Uint8Array[]) => {
      for (const out of pattern ? await pattern.pushMany(pieces) : pieces) {
        const rest = skip.direct.take(out);
        if (rest) await writer.write(rest);
      }
    },
    flush: async () => {
      pattern?.finish();
      await writer.flush();
    },
    get sent() {
      return writer.sent;
    },
  };
  // Collections are paced by the bytes that become relay records only, while the direct channel frees each DATA
  // frame's buffer once the socket has it (DirectConnection). Pacing every byte read ran a full collection per
  // 4 MiB of the file, ~40% of the sender's CPU. The relay records themselves are freed by hand too since the
  // upload frees each once fetch has taken it (UploadAttempt `owned`), so beside a direct channel the step is
  // 8 MiB of records (~56 MiB of a sealed split's file; 34 full collections per GiB with pass 1's, was 87 at
  // 2 MiB, for the same peak: docs/benchmarks.md, "Transfer CPU round 4"); no collection at all left the
  // peak 3-5 MiB higher. In pattern mode the encoder's own garbage made that step's peak ~3 MiB higher, so it
  // keeps 2 MiB; without a direct channel (every byte goes through the node) it stays 4 MiB.
  const pacer = new HeapPacer(writer ? (pattern ? PACE_BYTES / 4 : PACE_BYTES) : PACE_BYTES / 2);
  const pushRelay = async (part: RelayPart, bytes: Uint8Array) => {
    pacer.moved(bytes.byteLength);
    await live.find((l) => l.spec.part === part)?.data(bytes);
  };
  const pushBody = async (part: "protected" | "direct", bytes: Uint8Array) => {
    const rest = skip[part].take(bytes);
    if (rest) await pushRelay(part, rest);
  };
  for (const l of live) await l.start();
  await pushRelay("protected", split.protectedHeader);
  if (direct) await direct.header(split.directHeader);
  else await pushRelay("direct", split.directHeader);
  const router = new RangeRouter(split.ranges, plan.size);
  // Reused read buffers are safe here: every consumer (relay encoder, direct writer, hash) copies or finishes
  // with a chunk before the reader refills its buffer two reads later.
  await using input = await openInput(plan.path);
  let read = 0;
  for await (const chunk of readChunks(input, { reuse: true, chunkBytes: SEND_CHUNK_BYTES })) {
    if (signal.aborted) throw signal.reason;
    read += chunk.byteLength;
    if (read > plan.size) break;
    const routed = router.push(chunk);
    for (const p of routed.protected) await pushBody("protected", p);
    if (direct) await direct.write(routed.direct);
    else for (const d of routed.direct) await pushBody("direct", d);
    o.onEvent?.({ type: "progress", done: router.position, total: plan.size });
  }
  if (read !== plan.size) throw new SendFailure("source_changed", `${plan.path} changed while being sent`);
  router.finish();
  await direct?.flush();
  for (const l of live) await l.end();
  for (const l of live) result.bytesRelay += l.transfer.size;
  if (direct) result.bytesDirect = direct.sent;
}

/**
 * A pattern encoder for one transfer: a fresh CSPRNG salt keys its own keystream (MPEG-1/2) or AES-128-CBC
 * cipher (H.264 cbcs) from the session key.
 */
export async function patternEncoder(
  plan: PatternPlan & { version?: number; handOverRuns?: boolean; headerSpill?: () => HeaderSpill },
  sessionKey: Uint8Array,
): Promise<PatternDirectEncoder> {
  const salt = randomBytes(16);
  if (plan.scheme.kind === "cbcs") {
    return new PatternDirectEncoder(plan, salt, {
      cbcs: await makeCbcsTransform(sessionKey, salt, "encrypt"),
    });
  }
  return new PatternDirectEncoder(plan, salt, await makePatternKeystream(sessionKey, salt));
}
