/** @module Serves one OFFER on a direct connection: the payload arrives directly, through the relay, or split across both, and is filed. */
import { dirname } from "node:path";
import type { DirectConnection } from "../direct/direct-connection.ts";
import type { DirectMessage, OfferMessage } from "../direct/direct-message.ts";
import type { Recording } from "../library/library.ts";
import type { RelayManifest } from "../transfer/relay-stream.ts";
import type { SenderClaim } from "./file-received.ts";
import { readOfferTerms } from "./offer-terms.ts";
import { directPayload, patternDecoded } from "./payload-bytes.ts";
import { ReceiveFailure } from "./receive-failure.ts";
import type { ReceiveResume } from "./receive-resume.ts";
import type { SessionWork } from "./session-work.ts";
import type { TransferTracker } from "./transfer-tracker.ts";

/** What an OFFER is served with: the receiver's steps it shares with relay downloads. */
export interface OfferReceiver {
  resume: ReceiveResume;
  tracker: TransferTracker;
  /** Downloads (once per transfer id) and files a relay transfer of the session. */
  receiveRelay(
    transferId: string,
    sessionId: string,
    named: { stream?: 1 | 2 | 3 | undefined; key?: CryptoKey | undefined },
  ): Promise<Recording | undefined>;
  /** Files a whole recording from its bytes. */
  fileWhole(m: RelayManifest, sessionId: string, bytes: AsyncIterable<Uint8Array>): Promise<Recording>;
  /** The session's split assembly, created by whichever part arrives first. */
  split(sessionId: string, meta: SenderClaim): Promise<NonNullable<SessionWork["split"]>>;
  /** The session key. */
  key(sessionId: string): Promise<Uint8Array>;
}

/** The direct connection's state an OFFER is served over. */
export interface OfferContext {
  messages: AsyncGenerator<DirectMessage, void, undefined>;
  w: SessionWork;
  callerName: string;
  receiver: OfferReceiver;
}

/**
 * Serves one OFFER on an accepted direct connection: the payload it announces arrives (directly, through the
 * relay, or split across both) and is verified and filed. Resolves with the filed recording; a refusal or a cut
 * transfer throws a ReceiveFailure, which the RECEIPT carries.
 */
export async function serveOffer(
  offer: OfferMessage,
  conn: DirectConnection,
  { messages, w, callerName, receiver }: OfferContext,
): Promise<Recording> {
  const terms = readOfferTerms(offer);
  const { sha256, secret, relay, protection } = terms;
  const sessionId = conn.sessionId;
  await receiver.resume.admit(offer, terms, w, conn.peerId);
  const held = receiver.resume.held(w);
  const directBytes = (track: { add(n: number): void }) =>
    directPayload(
      messages,
      (n) => {
        track.add(n);
        w.bytesDirect += n;
      },
      { sealedOnly: protection === "sealed" },
    );
  if (offer.kind === "relay" && relay) {
    const stream = relay.stream === 3 ? 3 : undefined;
    const recP = receiver.receiveRelay(relay.transferId, sessionId, { stream, key: conn.relayKey });
    const end = await messages.next();
    if (!end.done && end.value.type === "data") {
      // The recording is secret: not one byte of it may arrive outside the sealed relay stream.
      throw new ReceiveFailure(
        "clear_data_refused",
        `Refused a ${end.value.clear ? "clear" : "sealed"} DATA frame under a relay (secret) OFFER: a secret recording only travels sealed through the node`,
      );
    }
    // The caller went away before END: a cut transfer (kept for a resume), not a malformed one.
    if (end.done) throw new ReceiveFailure("truncated", "Direct channel closed before END");
    if (end.value.type !== "end")
      throw new ReceiveFailure("protocol_error", "Expected END after a relay OFFER");
    const rec = await recP;
    if (!rec) throw new ReceiveFailure("protocol_error", "Relay transfer was not a whole recording");
    return rec;
  }
  if (offer.kind === "data") {
    const track = receiver.tracker.begin(sessionId, offer.name, "direct");
    try {
      return await receiver.fileWhole(
        {
          name: offer.name,
          kind: "whole",
          size: offer.size - held,
          originalSize: offer.size,
          ...(held > 0 ? { from: held } : {}),
          sha256,
          recordingType: "data",
          secret,
          sender: callerName,
        },
        sessionId,
        directBytes(track),
      );
    } finally {
      track.done();
    }
  }
  if (offer.kind === "split") {
    const split = await receiver.split(sessionId, {
      name: offer.name,
      sha256,
      originalSize: offer.size,
      secret,
      sender: callerName,
    });
    if (relay) {
      const s = relay.stream === 1 || relay.stream === 2 ? relay.stream : undefined;
      void receiver
        .receiveRelay(relay.transferId, sessionId, { stream: s, key: conn.relayKey })
        .catch((err: unknown) => split.assembly.fail(err));
    }
    const track = receiver.tracker.begin(sessionId, offer.name, "direct split-direct");
    try {
      const direct = directBytes(track);
      // Each payload's memory is freed as soon as the merger and the file are done with it. In pattern mode the
      // decoder decrypts a body frame in place and hands on the frame itself, which releaseData() knows; what it
      // hands on otherwise (headers, views, a cbcs cipher's held blocks) is not a frame and is left alone.
      const release = { release: (c: Uint8Array) => conn.releaseData(c) };
      const key = protection === "pattern" ? await receiver.key(sessionId) : undefined;
      const source = key
        ? patternDecoded(direct, key, { resumedAt: held, ...release, spillDir: dirname(split.file.path) })
        : direct;
      await split.assembly.feed("direct", source, release);
    } catch (err) {
      // Wait for the temp file to be gone before the RECEIPT tells the caller it failed.
      split.assembly.fail(err);
      await split.filed.catch(() => {});
      throw err;
    } finally {
      track.done();
    }
    return await split.filed;
  }
  throw new ReceiveFailure("protocol_error", `Unknown OFFER kind '${offer.kind}'`);
}
