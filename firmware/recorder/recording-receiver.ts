/** @module The receiving side of a send: OFFERs on the direct channel, relay downloads, split merge, verify, file, RECEIPT. */

import type { SplitPartKind } from "../../codec/split/split-format.ts";
import { fromBase64url } from "../../crypto/random-token.ts";
import { END_DONE, END_DONE_ALREADY_HELD } from "../../protocol/api-types.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import type { DirectConnection } from "../direct/direct-connection.ts";
import type { RecorderIdentity } from "../identity/identity-key-file.ts";
import type { Library, Recording } from "../library/library.ts";
import type { RelayManifest } from "../transfer/relay-stream.ts";
import { fileReceived, type SenderClaim } from "./file-received.ts";
import type { PartialReceives } from "./partial-receives.ts";
import { relayPayload } from "./payload-bytes.ts";
import { failureCode, ReceiveFailure } from "./receive-failure.ts";
import { ReceiveResume } from "./receive-resume.ts";
import type { RecorderLoad } from "./recorder-load.ts";
import { ackRelayTransfer } from "./relay-ack.ts";
import { type RelayJob, relayReadOptions } from "./relay-read-options.ts";
import { readRelayRecords } from "./relay-reader.ts";
import { type OfferReceiver, serveOffer } from "./serve-offer.ts";
import type { SessionKeyring } from "./session-keyring.ts";
import { SessionWork } from "./session-work.ts";
import { SplitAssembly } from "./split-assembly.ts";
import { type ActiveTransfer, TransferTracker } from "./transfer-tracker.ts";

export type { ActiveTransfer } from "./transfer-tracker.ts";

export interface ReceiverDeps {
  library: Library;
  client: ControlClient;
  keyring: SessionKeyring;
  /** This recorder's identity key: a stored transfer's key is encapsulated to it (HPKE, docs/protocol.md 13). */
  identity: RecorderIdentity;
  load: RecorderLoad;
  /** Interrupted live receives kept for a resumed send (DATA/partials). */
  partials: PartialReceives;
  /** Fetches pending sessions now (a data trigger may come before the contact trigger was handled). */
  fetchSessions(): Promise<void>;
  log(event: string, fields: Record<string, unknown>): void;
  /** Told whenever the set of active transfers changes (the status file follows). */
  changed(): void;
}

/** Failures of a relayed transfer that a retry cannot cure: a sealed chunk that does not open, a broken stream. */
const UNOPENABLE = new Set(["ERR_DECRYPT", "ERR_RELAY_INTEGRITY", "ERR_RELAY_PROTOCOL"]);

/**
 * One receiver per daemon. A relay transfer can be announced twice (the node's `data` trigger at creation and
 * the OFFER's meta.relay), so transfers are claimed by id and downloaded once; split parts meet in one
 * SplitAssembly per session, whichever channel delivers first.
 */
export class RecordingReceiver {
  readonly #d: ReceiverDeps;
  readonly #sessions = new Map<string, SessionWork>();
  readonly #tracker: TransferTracker;
  readonly #resume: ReceiveResume;
  /** The steps an OFFER shares with relay downloads (serve-offer.ts). */
  readonly #offers: OfferReceiver;

  constructor(d: ReceiverDeps) {
    this.#d = d;
    this.#resume = new ReceiveResume(d);
    this.#tracker = new TransferTracker(d.load.monitor, () => d.changed());
    this.#offers = {
      resume: this.#resume,
      tracker: this.#tracker,
      receiveRelay: (transferId, sessionId, named) => this.receiveRelay(transferId, sessionId, named),
      fileWhole: (m, sessionId, bytes) => this.#fileWhole(m, sessionId, bytes),
      split: (sessionId, meta) => this.#split(sessionId, meta),
      key: (sessionId) => this.#key(sessionId),
    };
  }

  /** Transfers under way, by tracking id (the status file lists them). */
  get active(): ReadonlyMap<string, ActiveTransfer> {
    return this.#tracker.active;
  }

  #work(sessionId: string): SessionWork {
    let w = this.#sessions.get(sessionId);
    if (!w) {
      const work = new SessionWork();
      this.#sessions.set(sessionId, work);
      const grant = this.#d.keyring.get(sessionId);
      if (grant?.mode === "live") {
        // At the lease end the node is asked; the work ends unless the session is still active.
        work.armLease(grant.expiresAt, async () => {
          if (this.#sessions.get(sessionId) !== work) return undefined;
          try {
            const st = await this.#d.client.session(sessionId);
            if (st.state === "active" && st.expiresAt > Date.now()) return st.expiresAt;
          } catch {
            // unknown or unreachable: the lease as we know it is over
          }
          this.endSession(sessionId, "expired");
          return undefined;
        });
      }
      w = work;
    }
    return w;
  }

  async #key(sessionId: string): Promise<Uint8Array> {
    if (!this.#d.keyring.has(sessionId)) await this.#d.fetchSessions();
    const s = this.#d.keyring.get(sessionId);
    if (!s)
      throw new ReceiveFailure(
        "no_session_key",
        `No session key for ${sessionId}: the grant was never fetched`,
      );
    return fromBase64url(s.key);
  }

  /**
   * Downloads a relay transfer (live or stored) of the session and files what it carries: a whole recording at
   * once, a split part into the session's assembly. Resolves with the filed recording (undefined for a split
   * part whose sibling is still missing). Claimed once per transfer id.
   */
  receiveRelay(
    transferId: string,
    sessionId: string,
    named: { stream?: 1 | 2 | 3 | undefined; key?: CryptoKey | undefined } = {},
  ): Promise<Recording | undefined> {
    const w = this.#work(sessionId);
    const { stream, key } = named;
    const job: RelayJob = {
      transferId,
      sessionId,
      ...(stream === undefined ? {} : { stream }),
      ...(key === undefined ? {} : { key }),
    };
    return w.claim(transferId, () => this.#relay(job, w));
  }

  async #relay(job: RelayJob, w: SessionWork): Promise<Recording | undefined> {
    const { transferId, sessionId } = job;
    const key = await this.#key(sessionId);
    const live = this.#d.keyring.get(sessionId)?.mode === "live";
    const rec = await this.#download(job, w, key);
    // A live transfer's ciphertext has no use once the recording is verified and filed: ack it so the node
    // deletes it now rather than at its TTL. A stored one is acked by the inbox pickup, which owns its retries.
    if (rec && live)
      void ackRelayTransfer(this.#d.client, transferId, (event, fields) =>
        this.#d.log(event, { session: sessionId, ...fields }),
      );
    return rec;
  }

  async #download(job: RelayJob, w: SessionWork, key: Uint8Array): Promise<Recording | undefined> {
    const { transferId, sessionId } = job;
    const records = readRelayRecords(
      relayReadOptions(job, {
        client: this.#d.client,
        identity: this.#d.identity,
        grant: this.#d.keyring.get(sessionId),
        sessionKey: key,
        work: w,
      }),
    );
    const { manifest: claimed, data: payload, release } = await relayPayload(records, transferId);
    // The sealed manifest is the sender's word; who sent it is the session's caller, as the node named it in
    // the grant (issue 21 item 5). A peer can seal any "sender" it likes, but not change whose session it is.
    const m = { ...claimed, sender: this.#callerOf(sessionId) };
    const track = this.#tracker.begin(sessionId, m.name, `relay ${m.kind}`);
    const count = (n: number) => {
      track.add(n);
      w.bytesRelay += n;
    };
    try {
      if (m.kind === "whole") return await this.#fileWhole(m, sessionId, payload(count));
      const part: SplitPartKind = m.kind === "split-protected" ? "protected" : "direct";
      const split = await this.#split(sessionId, m);
      await split.assembly.feed(part, payload(count), { release });
      return await split.filed;
    } finally {
      track.done();
    }
  }

  /** The session's caller as the node named it in the grant this recorder fetched. */
  #callerOf(sessionId: string): string {
    const caller = this.#d.keyring.get(sessionId)?.caller.name;
    if (!caller)
      throw new ReceiveFailure("no_session_key", `No grant for ${sessionId}: its caller is unknown`);
    return caller;
  }

  async #fileWhole(
    m: RelayManifest,
    sessionId: string,
    bytes: AsyncIterable<Uint8Array>,
  ): Promise<Recording> {
    const from = m.from ?? 0;
    if (m.size !== m.originalSize - from) {
      throw new ReceiveFailure(
        "integrity_failed",
        `Whole-recording manifest says ${m.size} of ${m.originalSize} bytes from byte ${from}`,
      );
    }
    const w = this.#work(sessionId);
    // A resumed send's stream carries the bytes after the held ones; the file starts as that prefix.
    const { file } = await this.#resume.open(w, from);
    const written = async () => {
      for await (const b of bytes) await file.write(b);
    };
    return await fileReceived(this.#d, file, {
      written,
      claim: m,
      sessionId,
      mismatch: (size) => `Received ${size} bytes that do not match the sender's SHA-256`,
      keep: this.#resume.keeper(w, sessionId),
      onFiled: this.#resume.filer(this.#d.keyring.get(sessionId)?.caller.id, sessionId),
      ...(from > 0 ? { logExtra: { resumedFrom: from } } : {}),
    });
  }

  /** The session's split assembly, created by whichever part arrives first. */
  async #split(sessionId: string, meta: SenderClaim): Promise<NonNullable<SessionWork["split"]>> {
    const w = this.#work(sessionId);
    if (w.split) return w.split;
    // Both parts may ask at once (the OFFER and the relay download): the first opens, the other waits for it.
    w.splitOpening ??= this.#openSplit(sessionId, w, meta);
    return await w.splitOpening;
  }

  async #openSplit(
    sessionId: string,
    w: SessionWork,
    meta: SenderClaim,
  ): Promise<NonNullable<SessionWork["split"]>> {
    // The merger hashes and checks every byte it emits, so the file takes its digest instead of hashing again.
    let assembly: SplitAssembly | undefined;
    // A resumed split starts from the held prefix: the merger's hash starts from it, read back from disk.
    const { file, prefix } = await this.#resume.open(w, this.#resume.held(w), {
      digestOf: () => assembly?.sha256 ?? "",
      // The assembly paces collections by the bytes that are not freed by hand (SplitAssembly.feed).
      paced: false,
    });
    assembly = new SplitAssembly(file, prefix);
    const filed = fileReceived(this.#d, file, {
      written: () => assembly.finished,
      claim: meta,
      sessionId,
      mismatch: () => "Merged recording does not match the sender's length and SHA-256",
      logExtra: { split: true, ...(prefix ? { resumedFrom: prefix.position } : {}) },
      keep: this.#resume.keeper(w, sessionId),
      onFiled: this.#resume.filer(this.#d.keyring.get(sessionId)?.caller.id, sessionId),
    });
    filed.catch(() => {});
    w.split = { assembly, file, filed };
    w.abort.signal.addEventListener("abort", () => assembly.fail(w.abort.signal.reason), { once: true });
    return w.split;
  }

  /** Serves one accepted direct connection: OFFER, payload, verify and file, RECEIPT, then the lease end. */
  async onConnection(conn: DirectConnection, callerName: string): Promise<void> {
    const sessionId = conn.sessionId;
    const w = this.#work(sessionId);
    w.direct = true;
    w.directPath = conn.path;
    const onAbort = () => void conn.abort("ended");
    w.abort.signal.addEventListener("abort", onAbort, { once: true });
    const messages = conn.messages();
    try {
      let first = await messages.next();
      if (!first.done && first.value.type === "resume") {
        // A resumed send asks what this recorder kept of it before it offers (docs/protocol.md 12.6).
        await this.#resume.answer(conn, first.value, w);
        first = await messages.next();
      }
      if (first.done) {
        await this.#resume.giveBack(w);
        return;
      }
      if (first.value.type !== "offer")
        throw new ReceiveFailure("protocol_error", `Expected OFFER, got ${first.value.type}`);
      const offer = first.value;
      this.#d.log("offer", {
        session: sessionId,
        kind: offer.kind,
        name: offer.name,
        bytes: offer.size,
        from: callerName,
      });
      let receipt: { ok: boolean; bytes: number; sha256?: string; code?: string; held?: boolean };
      try {
        const rec = await serveOffer(offer, conn, { messages, w, callerName, receiver: this.#offers });
        receipt = { ok: true, bytes: rec.size, sha256: rec.sha256, ...(rec.duplicate ? { held: true } : {}) };
      } catch (err) {
        const code = err instanceof ReceiveFailure ? err.code : failureCode(err);
        this.#d.log("receive-failed", { session: sessionId, code, message: (err as Error).message });
        receipt = { ok: false, bytes: 0, code };
        w.abort.signal.removeEventListener("abort", onAbort);
        await w.abandon(err);
        await this.#resume.giveBack(w);
      }
      await conn.send({ type: "receipt", ...receipt });
      // The caller closes after the RECEIPT; drain until then so its CLOSE is read.
      for await (const _ of messages) {
        // nothing more is expected on this connection
      }
      await conn.close();
    } catch (err) {
      this.#d.log("direct-failed", {
        session: sessionId,
        code: failureCode(err),
        message: (err as Error).message,
      });
      w.abort.signal.removeEventListener("abort", onAbort);
      await conn.abort("error").catch(() => {});
      await w.abandon(err);
      await this.#resume.giveBack(w);
    } finally {
      w.abort.signal.removeEventListener("abort", onAbort);
      await this.#finishSession(sessionId, "done", conn.bytesReceived);
    }
  }

  /** Reports the session's end to the node with its byte counts and forgets its key. */
  async #finishSession(sessionId: string, reason: string, bytesDirect: number): Promise<void> {
    const w = this.#sessions.get(sessionId);
    this.#sessions.delete(sessionId);
    this.#d.keyring.delete(sessionId);
    try {
      await this.#d.client.end(sessionId, {
        reason,
        bytesDirect,
        bytesRelay: w?.bytesRelay ?? 0,
        ...(w?.directPath && bytesDirect > 0 ? { directPath: w.directPath } : {}),
      });
    } catch (err) {
      this.#d.log("end-report-failed", { session: sessionId, message: (err as Error).message });
    }
  }

  /** A forced end (`end` trigger): aborts every download and the direct channel of the session, drops temp files. */
  endSession(sessionId: string, reason: string): boolean {
    const w = this.#sessions.get(sessionId);
    if (!w) return false;
    this.#sessions.delete(sessionId);
    w.abort.abort(new ReceiveFailure("ended", `Session ended: ${reason}`));
    if (w.split) void w.split.file.discard();
    this.#d.log("session-work-ended", { session: sessionId, reason });
    return true;
  }

  /**
   * A live relay transfer announced by a `data` trigger. When no direct connection serves the session (the
   * sender fell back to the relay for everything), this side reports the session's end once the recording is in.
   */
  async receiveAnnounced(transferId: string, sessionId: string): Promise<Recording | undefined> {
    // A direct connection serves the session: its OFFER names the transfer and the key it is under (the
    // connection's forward-secret relay key), so the announcement must not claim it first under the session's.
    if (this.#sessions.get(sessionId)?.direct) return undefined;
    let rec: Recording | undefined;
    try {
      rec = await this.receiveRelay(transferId, sessionId);
    } catch (err) {
      // Bytes that do not open under this session's key never will (a peer under another key, a damaged
      // transfer): end the session, so the sender stops at once instead of waiting for a receipt.
      if (UNOPENABLE.has((err as { code?: string }).code ?? ""))
        await this.#finishSession(sessionId, "failed: unopenable", 0);
      throw err;
    }
    const w = this.#sessions.get(sessionId);
    // Without a channel there is no RECEIPT: the end reason tells the sender whether anything new was filed.
    if (rec && w && !w.direct)
      await this.#finishSession(sessionId, rec.duplicate ? END_DONE_ALREADY_HELD : END_DONE, 0);
    return rec;
  }

  /** The caller obtained an extension (the lease follower saw it): downloads may wait for the node that long. */
  leaseExtended(sessionId: string, expiresAt: number): void {
    const w = this.#sessions.get(sessionId);
    if (w?.leaseEnd !== undefined && expiresAt > w.leaseEnd) w.leaseEnd = expiresAt;
  }

  /** Forgets a stored transfer's session after it was filed and acked. */
  forget(sessionId: string): void {
    this.#sessions.delete(sessionId);
  }
}
