/** @module The callee's side of a resumed live send: answers RESUME from the kept partials, opens the resumed file, keeps an interrupted receive. */

import type { Hash } from "node:crypto";
import { rm } from "node:fs/promises";
import type { DirectConnection } from "../direct/direct-connection.ts";
import type { OfferMessage, ResumeMessage } from "../direct/direct-message.ts";
import type { Library } from "../library/library.ts";
import { IncomingFile, type IncomingFileOptions } from "./incoming-file.ts";
import type { OfferTerms } from "./offer-terms.ts";
import { type PartialKey, type PartialReceives, partialShape } from "./partial-receives.ts";
import { failureCode, ReceiveFailure } from "./receive-failure.ts";
import type { SessionWork } from "./session-work.ts";

/**
 * A running live receive is fsynced and checkpointed every this many bytes, so a daemon that dies mid-transfer
 * still holds that much at its next start. One fsync per 16 MiB (the writer already writes every MiB) bounds
 * both what a crash loses and the flushes the checkpoints add; not measured separately.
 */
export const CHECKPOINT_BYTES = 16 * 1024 * 1024;

/** Failures a resumed send cannot cure: what was received is wrong or refused, so it is not kept. */
const NOT_RESUMABLE = new Set([
  "integrity_failed",
  "decrypt_failed",
  "protocol_error",
  "clear_data_refused",
  "no_session_key",
]);

export interface ReceiveResumeDeps {
  partials: PartialReceives;
  library: Library;
  log(event: string, fields: Record<string, unknown>): void;
}

/**
 * The callee keeps what it already received (docs/protocol.md 12.6). Every live receive on a direct connection
 * knows its partial key from its OFFER; when it is cut (the caller died, the channel broke, the node went away)
 * its fsynced bytes are kept under that key. A resumed send asks with RESUME, is told HELD, and its OFFER,
 * DATA and relay streams carry only the rest; the whole recording's SHA-256 is still checked at the end.
 */
export class ReceiveResume {
  readonly #d: ReceiveResumeDeps;

  constructor(d: ReceiveResumeDeps) {
    this.#d = d;
  }

  /**
   * RESUME: the partial this caller left of exactly this recording and shape, taken out of the store into an
   * incoming file, and HELD with its length (0 when there is none: the same answer whether another caller has
   * one or nobody does).
   */
  async answer(conn: DirectConnection, q: ResumeMessage, w: SessionWork): Promise<void> {
    const key: PartialKey = { caller: conn.peerId, sha256: q.sha256, shape: partialShape(q) };
    let held = 0;
    try {
      const taken = await this.#d.partials.take(key, this.#d.library.incomingPath());
      if (taken !== undefined) {
        w.resumed = { key, path: taken.path, held: taken.held, opened: false };
        held = taken.held;
      }
    } catch (err) {
      this.#d.log("partial-damaged", {
        session: conn.sessionId,
        code: (err as { code?: string }).code ?? "ERR_PARTIAL_DAMAGED",
        message: (err as Error).message,
      });
    }
    w.resumeAsked = key;
    this.#d.log("resume", { session: conn.sessionId, held });
    await conn.send({ type: "held", held });
  }

  /**
   * Checks an OFFER against the RESUME before it (same recording and shape, resuming from what HELD said) and
   * notes its partial key for an interruption. A fresh OFFER (no meta.resume) drops what this caller left of the
   * same recording and shape: the sender chose to start over.
   */
  async admit(offer: OfferMessage, terms: OfferTerms, w: SessionWork, caller: string): Promise<void> {
    const shape = partialShape({
      kind: offer.kind,
      size: offer.size,
      protection: offer.kind === "relay" ? "sealed" : terms.protection,
      ...(terms.directSize !== undefined ? { directSize: terms.directSize } : {}),
    });
    const key: PartialKey = { caller, sha256: terms.sha256, shape };
    w.partial = { key, name: offer.name };
    const asked = w.resumeAsked;
    if (terms.resume === undefined) {
      if (asked !== undefined)
        throw new ReceiveFailure("protocol_error", "An OFFER after RESUME without meta.resume");
      await this.#d.partials.drop(key);
      return;
    }
    if (asked === undefined || asked.sha256 !== key.sha256 || asked.shape !== key.shape)
      throw new ReceiveFailure("protocol_error", "A resumed OFFER that does not match its RESUME");
    if (terms.resume.held !== (w.resumed?.held ?? 0))
      throw new ReceiveFailure(
        "protocol_error",
        `A resumed OFFER from byte ${terms.resume.held}, where HELD said ${w.resumed?.held ?? 0}`,
      );
  }

  /** Bytes of the original this session resumes from (0: a fresh receive). */
  held(w: SessionWork): number {
    return w.resumed?.held ?? 0;
  }

  /**
   * The incoming file of a receive: the resumed partial (appending after its held bytes, its SHA-256 starting
   * from them) or a fresh one. `from` is what the stream says it starts at; anything but the held count is
   * refused (integrity_failed), so a stream cannot be spliced onto another's prefix.
   */
  async open(
    w: SessionWork,
    from: number,
    o: IncomingFileOptions = {},
  ): Promise<{ file: IncomingFile; prefix?: { position: number; hash: Hash } }> {
    const r = w.resumed;
    if (from !== (r?.held ?? 0))
      throw new ReceiveFailure(
        "integrity_failed",
        `A stream resuming at byte ${from}, where this receiver holds ${r?.held ?? 0}`,
      );
    if (r === undefined || r.held === 0) {
      if (r !== undefined) {
        r.opened = true;
        await rm(r.path, { force: true });
      }
      const file = await IncomingFile.create(this.#d.library.incomingPath(), o);
      this.#checkpoints(w, file, 0);
      return { file };
    }
    if (r.opened) throw new ReceiveFailure("protocol_error", "A resumed receive opened twice");
    r.opened = true;
    const { file, prefix } = await IncomingFile.resume(r.path, r.held, o);
    this.#checkpoints(w, file, r.held);
    return { file, prefix: { position: r.held, hash: prefix } };
  }

  /**
   * Every CHECKPOINT_BYTES a live receive on a direct connection is fsynced and recorded where it is
   * (PartialReceives.checkpoint): a daemon killed mid-transfer adopts it at its next start. A receive no OFFER
   * named (the relay fallback, a stored pickup) has no partial key and is not checkpointed.
   */
  #checkpoints(w: SessionWork, file: IncomingFile, from: number): void {
    const c = { at: from, busy: false, written: false };
    w.checkpoint = c;
    file.onGrow = (size) => {
      const partial = w.partial;
      if (c.busy || partial === undefined || size - c.at < CHECKPOINT_BYTES) return;
      c.busy = true;
      file
        .sync((held) => {
          this.#d.partials.checkpoint(partial.key, { name: partial.name, path: file.path, held });
          c.written = true;
          c.at = held;
        })
        .catch(() => {})
        .finally(() => {
          c.busy = false;
        });
    };
  }

  /**
   * fileReceived's hook for a failed receive: a cut one is fsynced and kept under the session's partial key
   * (true: the file is the store's now); a refused one, or one with no key (no direct connection named it), is
   * not (false: it is discarded).
   */
  keeper(w: SessionWork, sessionId: string): (err: unknown, file: IncomingFile) => Promise<boolean> {
    return async (err, file) => {
      const code = err instanceof ReceiveFailure ? err.code : failureCode(err);
      if (w.partial === undefined) return false;
      if (NOT_RESUMABLE.has(code)) {
        // A checkpoint of bytes now refused must not be adopted at the next start.
        if (w.checkpoint?.written) await this.#d.partials.drop(w.partial.key);
        return false;
      }
      try {
        const held = await file.keep();
        if (held === 0) {
          await rm(file.path, { force: true });
          await this.#d.partials.drop(w.partial.key);
          return true;
        }
        await this.#d.partials.keep(w.partial.key, { name: w.partial.name, path: file.path, held });
        this.#d.log("partial-kept", { session: sessionId, name: w.partial.name, held, code });
      } catch (keepErr) {
        this.#d.log("partial-keep-failed", { session: sessionId, message: (keepErr as Error).message });
        await rm(file.path, { force: true });
      }
      return true;
    };
  }

  /**
   * fileReceived's hook once a recording is filed: what its caller left of it under any shape is of no more use
   * (a relay resend after a broken direct path, a send from the start). The caller is the session's, as the
   * node named it in the grant.
   */
  filer(caller: string | undefined, sessionId: string): (rec: { sha256: string }) => void {
    return (rec) => {
      if (caller === undefined) return;
      void this.#d.partials.dropRecording(caller, rec.sha256).then(
        (n) => {
          if (n > 0) this.#d.log("partials-dropped", { session: sessionId, dropped: n });
        },
        () => {},
      );
    };
  }

  /** A resumed receive that failed before its file was opened: the partial goes back, unchanged, to the store. */
  async giveBack(w: SessionWork): Promise<void> {
    const r = w.resumed;
    if (r === undefined || r.opened) return;
    r.opened = true;
    await this.#d.partials
      .keep(r.key, { name: w.partial?.name ?? "", path: r.path, held: r.held })
      .catch(() => rm(r.path, { force: true }));
  }
}
